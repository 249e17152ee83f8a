use super::*;

fn divisions() -> Vec<(&'static str, Vec<&'static str>)> {
    vec![
        ("aptika", vec!["kabid.aptika@kaltaraprov.go.id"]),
        ("sekretariat", vec!["sekretaris@kaltaraprov.go.id"]),
    ]
}

fn state(status: Status) -> State {
    State {
        status,
        division: Some("aptika".into()),
        round: 1,
        draft: Some("Draf jawaban.".into()),
    }
}

#[test]
fn kepala_dinas_names_a_division_naturally() {
    let read = |text| read(&Role::KepalaDinas, &Stage::Disposisi, text, &divisions());
    assert_eq!(
        read("aptika - mohon ditindaklanjuti"),
        Ok(Command::Disposition {
            division: "aptika".into(),
            copies: Vec::new(),
            instruction: "mohon ditindaklanjuti".into(),
            priority: None,
        })
    );
    assert_eq!(
        read("Aptika."),
        Ok(Command::Disposition {
            division: "aptika".into(),
            copies: Vec::new(),
            instruction: String::new(),
            priority: None,
        })
    );
    assert_eq!(
        read("kabid.aptika@kaltaraprov.go.id: segera"),
        Ok(Command::Disposition {
            division: "aptika".into(),
            copies: Vec::new(),
            instruction: String::new(),
            priority: Some(Priority::Segera),
        }),
        "a priority, not an instruction"
    );
    assert_eq!(
        read("humas tolong"),
        Err(Misread::UnknownDivision {
            said: "humas".into()
        })
    );
    assert_eq!(read("  "), Err(Misread::Empty));
    assert_eq!(
        read("**sekretariat** - koordinasikan"),
        Ok(Command::Disposition {
            division: "sekretariat".into(),
            copies: Vec::new(),
            instruction: "koordinasikan".into(),
            priority: None,
        }),
        "bold from an HTML reply"
    );
    assert_eq!(
        read("aptika – mohon dicek"),
        Ok(Command::Disposition {
            division: "aptika".into(),
            copies: Vec::new(),
            instruction: "mohon dicek".into(),
            priority: None,
        }),
        "Outlook's AutoCorrect dash"
    );
}

#[test]
fn a_disposition_may_name_several_units_the_lead_first() {
    let read = |text| read(&Role::KepalaDinas, &Stage::Disposisi, text, &divisions());
    let disposition = |division: &str, copies: &[&str], instruction: &str, priority| {
        Ok(Command::Disposition {
            division: division.into(),
            copies: copies.iter().map(|c| c.to_string()).collect(),
            instruction: instruction.into(),
            priority,
        })
    };
    assert_eq!(
        read("aptika, sekretariat segera - koordinasikan"),
        disposition(
            "aptika",
            &["sekretariat"],
            "koordinasikan",
            Some(Priority::Segera)
        )
    );
    assert_eq!(
        read("Sekretariat dan aptika: cek bersama"),
        disposition("sekretariat", &["aptika"], "cek bersama", None)
    );
    assert_eq!(
        read("aptika + sekretaris@kaltaraprov.go.id"),
        disposition("aptika", &["sekretariat"], "", None)
    );
    assert_eq!(
        read("aptika - sekretariat sudah tahu, mohon dicek"),
        disposition("aptika", &[], "sekretariat sudah tahu, mohon dicek", None),
        "after a dash, words are the instruction"
    );
    assert_eq!(
        read("aptika, mohon dicek dan aptika lagi"),
        disposition("aptika", &[], "mohon dicek dan aptika lagi", None)
    );
    assert_eq!(read("aptika, aptika"), disposition("aptika", &[], "", None));
}

#[test]
fn a_division_hands_a_misrouted_task_back() {
    let read = |text| {
        read(
            &Role::Bidang("aptika".into()),
            &Stage::Jawaban(1),
            text,
            &divisions(),
        )
    };
    assert_eq!(
        read("KEMBALIKAN: ini urusan Dinas PU"),
        Ok(Command::HandBack {
            reason: "ini urusan Dinas PU".into()
        })
    );
    assert!(matches!(
        read("kembalikan -"),
        Err(Misread::NoKeyword { .. })
    ));
    assert_eq!(
        read("Kembalikan dana warga sudah diproses."),
        Ok(Command::Draft {
            text: "Kembalikan dana warga sudah diproses.".into()
        }),
        "a draft that starts with the word"
    );
    let (next, transition) = apply(
        &state(Status::MenungguJawaban),
        Command::HandBack {
            reason: "salah".into(),
        },
    )
    .expect("handed back");
    assert_eq!(
        (next.status, next.division.clone(), next.round),
        (Status::MenungguDisposisi, None, 1)
    );
    assert_eq!(
        transition,
        Transition::HandedBack {
            division: "aptika".into(),
            reason: "salah".into()
        }
    );
    let (again, _) = apply(
        &next,
        Command::Disposition {
            division: "sekretariat".into(),
            copies: Vec::new(),
            instruction: String::new(),
            priority: None,
        },
    )
    .expect("disposed again");
    assert_eq!(again.round, 2, "the old task's round is stale");
}

#[test]
fn kasubbag_approves_corrects_or_rejects() {
    let read = |text| {
        read(
            &Role::KasubbagUmum,
            &Stage::Persetujuan(1),
            text,
            &divisions(),
        )
    };
    assert_eq!(read("Setuju."), Ok(Command::Approve { corrected: None }));
    assert_eq!(read("SETUJU"), Ok(Command::Approve { corrected: None }));
    assert_eq!(
        read("Setuju, terima kasih.\n\nSalam,\nBudi\nKasubbag Umum"),
        Ok(Command::Approve { corrected: None }),
        "courtesy and a signature after SETUJU approve the draft as it is"
    );
    assert_eq!(
        read("setuju:\nTeks lain di bawahnya."),
        Ok(Command::Approve { corrected: None }),
        "only the marker replaces the draft"
    );
    assert_eq!(
        read("SETUJU DENGAN PERBAIKAN:\nTeks perbaikan.\n\nSalam."),
        Ok(Command::Approve {
            corrected: Some("Teks perbaikan.\n\nSalam.".into())
        })
    );
    assert_eq!(
        read("**Setuju  dengan perbaikan** - Teks perbaikan."),
        Ok(Command::Approve {
            corrected: Some("Teks perbaikan.".into())
        }),
        "any case and spacing, bold from HTML"
    );
    assert_eq!(
        read("SETUJU DENGAN PERBAIKAN:\n   "),
        Err(Misread::EmptyCorrection)
    );
    assert_eq!(
        read("Setuju dengan perbaikannya nanti."),
        Ok(Command::Approve { corrected: None }),
        "a longer word is not the marker"
    );
    assert_eq!(
        read("TOLAK - lengkapi lokasi"),
        Ok(Command::Reject {
            note: "lengkapi lokasi".into()
        })
    );
    assert!(matches!(read("Baik pak"), Err(Misread::NoKeyword { .. })));
    assert!(
        matches!(read("Setujui"), Err(Misread::NoKeyword { .. })),
        "a different word is not SETUJU"
    );
}

#[test]
fn admin_closes_with_a_reason() {
    assert_eq!(
        read(
            &Role::Admin,
            &Stage::Jawaban(1),
            "TUTUP: spam",
            &divisions()
        ),
        Ok(Command::Close {
            reason: "spam".into()
        })
    );
}

#[test]
fn the_lifecycle_runs_to_the_answer() {
    let start = State {
        status: Status::MenungguDisposisi,
        division: None,
        round: 0,
        draft: None,
    };
    let (s, t) = apply(
        &start,
        Command::Disposition {
            division: "aptika".into(),
            copies: Vec::new(),
            instruction: "cek".into(),
            priority: None,
        },
    )
    .expect("dispose");
    assert_eq!(
        (s.status, s.round, s.division.as_deref()),
        (Status::MenungguJawaban, 1, Some("aptika"))
    );
    assert!(matches!(t, Transition::Disposed { .. }));
    let (s, _) = apply(
        &s,
        Command::Draft {
            text: "Draf 1".into(),
        },
    )
    .expect("draft");
    assert_eq!(s.status, Status::MenungguPersetujuan);
    let (s, t) = apply(
        &s,
        Command::Reject {
            note: "kurang".into(),
        },
    )
    .expect("reject");
    assert_eq!((s.status, s.round), (Status::MenungguJawaban, 2));
    assert_eq!(
        t,
        Transition::Rejected {
            note: "kurang".into()
        }
    );
    let (s, _) = apply(
        &s,
        Command::Draft {
            text: "Draf 2".into(),
        },
    )
    .expect("draft");
    let (s, t) = apply(&s, Command::Approve { corrected: None }).expect("approve");
    assert_eq!(s.status, Status::Selesai);
    assert_eq!(
        t,
        Transition::Approved {
            text: "Draf 2".into()
        }
    );
}

#[test]
fn corrected_text_replaces_the_draft() {
    let (_, t) = apply(
        &state(Status::MenungguPersetujuan),
        Command::Approve {
            corrected: Some("Perbaikan".into()),
        },
    )
    .expect("approve");
    assert_eq!(
        t,
        Transition::Approved {
            text: "Perbaikan".into()
        }
    );
}

#[test]
fn commands_out_of_stage_are_refused() {
    assert!(
        apply(
            &state(Status::MenungguDisposisi),
            Command::Approve { corrected: None }
        )
        .is_err()
    );
    assert!(
        apply(
            &state(Status::Selesai),
            Command::Close { reason: "x".into() }
        )
        .is_err()
    );
    assert!(
        apply(
            &state(Status::MenungguJawaban),
            Command::Disposition {
                division: "a".into(),
                copies: Vec::new(),
                instruction: String::new(),
                priority: None,
            }
        )
        .is_err()
    );
    assert_eq!(
        State {
            round: 3,
            ..state(Status::MenungguJawaban)
        }
        .stage(),
        Some(Stage::Jawaban(3))
    );
    assert_eq!(state(Status::Ditutup).stage(), None);
}
