//! The texts people read, rendered from editable templates (Bahasa Indonesia).
//!
//! Each template lives in `office.templates_dir` as `<name>.txt`; when the office has not
//! put a file there, the copy built into the binary is used. A rendered template starts
//! with a `Subject:` line, then a blank line, then the body.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Datelike, Timelike, Utc};
use chrono_tz::Tz;
use minijinja::Environment;
use serde::Serialize;

/// Built-in copies of the templates in `templates/`.
const BUILT_IN: &[(&str, &str)] = &[
    (
        "acknowledgment",
        include_str!("../../templates/acknowledgment.txt"),
    ),
    ("disposisi", include_str!("../../templates/disposisi.txt")),
    ("ditahan", include_str!("../../templates/ditahan.txt")),
    ("tugas", include_str!("../../templates/tugas.txt")),
    (
        "persetujuan",
        include_str!("../../templates/persetujuan.txt"),
    ),
    (
        "dikembalikan",
        include_str!("../../templates/dikembalikan.txt"),
    ),
    ("jawaban", include_str!("../../templates/jawaban.txt")),
    (
        "jawaban_terkirim",
        include_str!("../../templates/jawaban_terkirim.txt"),
    ),
    (
        "tidak_dipahami",
        include_str!("../../templates/tidak_dipahami.txt"),
    ),
    (
        "status_terkini",
        include_str!("../../templates/status_terkini.txt"),
    ),
    (
        "laporan_tidak_sah",
        include_str!("../../templates/laporan_tidak_sah.txt"),
    ),
    (
        "berkas_berbahaya",
        include_str!("../../templates/berkas_berbahaya.txt"),
    ),
    (
        "lampiran_susulan",
        include_str!("../../templates/lampiran_susulan.txt"),
    ),
    ("pengingat", include_str!("../../templates/pengingat.txt")),
    (
        "laporan_bulanan",
        include_str!("../../templates/laporan_bulanan.txt"),
    ),
    ("pihak_lain", include_str!("../../templates/pihak_lain.txt")),
    ("terlambat", include_str!("../../templates/terlambat.txt")),
    (
        "tindak_lanjut",
        include_str!("../../templates/tindak_lanjut.txt"),
    ),
    (
        "tindak_lanjut_selesai",
        include_str!("../../templates/tindak_lanjut_selesai.txt"),
    ),
    (
        "status_pengaduan",
        include_str!("../../templates/status_pengaduan.txt"),
    ),
    (
        "status_bukan_pelapor",
        include_str!("../../templates/status_bukan_pelapor.txt"),
    ),
    ("ditutup", include_str!("../../templates/ditutup.txt")),
    (
        "masih_diproses",
        include_str!("../../templates/masih_diproses.txt"),
    ),
    ("terpental", include_str!("../../templates/terpental.txt")),
    (
        "penilaian_diterima",
        include_str!("../../templates/penilaian_diterima.txt"),
    ),
    (
        "sms_acknowledgment",
        include_str!("../../templates/sms_acknowledgment.txt"),
    ),
    (
        "sms_jawaban",
        include_str!("../../templates/sms_jawaban.txt"),
    ),
    (
        "sms_jawaban_panjang",
        include_str!("../../templates/sms_jawaban_panjang.txt"),
    ),
    ("sms_format", include_str!("../../templates/sms_format.txt")),
    ("formulir", include_str!("../../templates/formulir.txt")),
    (
        "formulir_salah",
        include_str!("../../templates/formulir_salah.txt"),
    ),
    (
        "daftar_diterima",
        include_str!("../../templates/daftar_diterima.txt"),
    ),
    (
        "cetak_acknowledgment",
        include_str!("../../templates/cetak_acknowledgment.txt"),
    ),
    (
        "cetak_jawaban",
        include_str!("../../templates/cetak_jawaban.txt"),
    ),
    ("pertanyaan", include_str!("../../templates/pertanyaan.txt")),
    (
        "sms_pertanyaan",
        include_str!("../../templates/sms_pertanyaan.txt"),
    ),
    (
        "sms_pertanyaan_panjang",
        include_str!("../../templates/sms_pertanyaan_panjang.txt"),
    ),
    (
        "cetak_pertanyaan",
        include_str!("../../templates/cetak_pertanyaan.txt"),
    ),
    (
        "tembusan_disposisi",
        include_str!("../../templates/tembusan_disposisi.txt"),
    ),
    (
        "sms_status_pengaduan",
        include_str!("../../templates/sms_status_pengaduan.txt"),
    ),
    (
        "sms_status_bukan_pelapor",
        include_str!("../../templates/sms_status_bukan_pelapor.txt"),
    ),
    (
        "sms_ditutup",
        include_str!("../../templates/sms_ditutup.txt"),
    ),
    (
        "sms_masih_diproses",
        include_str!("../../templates/sms_masih_diproses.txt"),
    ),
    (
        "sms_penilaian_diterima",
        include_str!("../../templates/sms_penilaian_diterima.txt"),
    ),
    (
        "cetak_ditutup",
        include_str!("../../templates/cetak_ditutup.txt"),
    ),
    (
        "cetak_masih_diproses",
        include_str!("../../templates/cetak_masih_diproses.txt"),
    ),
    (
        "cetak_status_pengaduan",
        include_str!("../../templates/cetak_status_pengaduan.txt"),
    ),
];

#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    #[error("template {name}: {source}")]
    Render {
        name: String,
        #[source]
        source: minijinja::Error,
    },
    #[error("template {name}: cannot read {path}: {source}")]
    Read {
        name: String,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("template {name}: the first line must be \"Subject: …\" followed by a blank line")]
    NoSubject { name: String },
}

/// A rendered email text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub subject: String,
    pub body: String,
}

pub struct Templates {
    env: Environment<'static>,
}

/// The office's copy of a template (the file at `path`) when it has one, the built-in
/// copy otherwise.
fn office_copy(path: &Path, built_in: &str) -> std::io::Result<String> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(text),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(built_in.to_string()),
        Err(e) => Err(e),
    }
}

/// Adds each `(name, built-in text)` of `built_in` to `env`: the office's copy, the file
/// `dir/<name><extension>`, when it has one.
pub fn add_office_copies(
    env: &mut Environment<'static>,
    dir: &Path,
    built_in: &[(&str, &str)],
    extension: &str,
) -> Result<(), TemplateError> {
    for (name, text) in built_in {
        let path = dir.join(format!("{name}{extension}"));
        let source = office_copy(&path, text).map_err(|source| TemplateError::Read {
            name: name.to_string(),
            path: path.clone(),
            source,
        })?;
        env.add_template_owned(name.to_string(), source)
            .map_err(|source| TemplateError::Render {
                name: name.to_string(),
                source,
            })?;
    }
    Ok(())
}

impl Templates {
    /// Loads every template: the office's file when present, the built-in copy otherwise.
    pub fn load(dir: &Path) -> Result<Templates, TemplateError> {
        let mut env = Environment::new();
        env.set_keep_trailing_newline(true);
        add_office_copies(&mut env, dir, BUILT_IN, ".txt")?;
        Ok(Templates { env })
    }

    pub fn render(&self, name: &str, context: impl Serialize) -> Result<Rendered, TemplateError> {
        let error = |source| TemplateError::Render {
            name: name.to_string(),
            source,
        };
        let text = self
            .env
            .get_template(name)
            .and_then(|t| t.render(context))
            .map_err(error)?;
        let text = text.trim_start_matches(['\n', '\r']);
        let (first, body) = text.split_once('\n').unwrap_or((text, ""));
        let subject = first
            .strip_prefix("Subject:")
            .ok_or_else(|| TemplateError::NoSubject {
                name: name.to_string(),
            })?
            .trim()
            .to_string();
        let body = body.trim_start_matches(['\r', '\n']).trim_end().to_string() + "\n";
        Ok(Rendered { subject, body })
    }

    /// The names of all templates, for `check`.
    pub fn names() -> impl Iterator<Item = &'static str> {
        BUILT_IN.iter().map(|(name, _)| *name)
    }
}

const HARI: [&str; 7] = [
    "Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu", "Minggu",
];
/// The months as written in Indonesian.
pub const BULAN: [&str; 12] = [
    "Januari",
    "Februari",
    "Maret",
    "April",
    "Mei",
    "Juni",
    "Juli",
    "Agustus",
    "September",
    "Oktober",
    "November",
    "Desember",
];

/// `Kamis, 3 Desember 2026 pukul 10.52 WITA`: how a date is written to people.
pub fn tanggal(at: DateTime<Utc>, zone: Tz) -> String {
    let local = at.with_timezone(&zone);
    format!(
        "{}, {} {} {} pukul {:02}.{:02} {}",
        HARI[local.weekday().num_days_from_monday() as usize],
        local.day(),
        BULAN[local.month0() as usize],
        local.year(),
        local.hour(),
        local.minute(),
        local.format("%Z"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_written_in_indonesian_wita() {
        let at = DateTime::parse_from_rfc3339("2026-12-03T02:52:00Z")
            .expect("valid")
            .with_timezone(&Utc);
        assert_eq!(
            tanggal(at, chrono_tz::Asia::Makassar),
            "Kamis, 3 Desember 2026 pukul 10.52 WITA"
        );
    }

    #[test]
    fn office_templates_override_built_in_ones() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(
            dir.path().join("acknowledgment.txt"),
            "Subject: Nomor {{ number }}\n\nIsi {{ number }}\n",
        )
        .expect("write");
        let templates = Templates::load(dir.path()).expect("load");
        let rendered = templates
            .render(
                "acknowledgment",
                minijinja::context! { number => "ADU-2026-00001" },
            )
            .expect("render");
        assert_eq!(rendered.subject, "Nomor ADU-2026-00001");
        assert_eq!(rendered.body, "Isi ADU-2026-00001\n");
    }

    #[test]
    fn every_template_file_is_built_in() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("templates");
        let mut files: Vec<String> = std::fs::read_dir(&dir)
            .expect("templates/")
            .filter_map(|e| {
                e.ok()?
                    .file_name()
                    .to_str()?
                    .strip_suffix(".txt")
                    .map(str::to_string)
            })
            .collect();
        files.sort();
        let mut built_in: Vec<String> = Templates::names().map(str::to_string).collect();
        built_in.sort();
        assert_eq!(files, built_in);
    }

    #[test]
    fn every_message_to_the_citizen_has_an_sms_and_a_printable_twin() {
        let names: Vec<&str> = Templates::names().collect();
        for name in ["acknowledgment", "jawaban", "pertanyaan"] {
            for twin in [format!("sms_{name}"), format!("cetak_{name}")] {
                assert!(names.contains(&twin.as_str()), "{twin}");
            }
        }
        // The letters of the citizen's side: each by SMS; on paper where a citizen
        // without email or SMS can be told (not a rating's thanks, nor a stranger).
        for name in [
            "status_pengaduan",
            "status_bukan_pelapor",
            "ditutup",
            "masih_diproses",
            "penilaian_diterima",
        ] {
            let twin = format!("sms_{name}");
            assert!(names.contains(&twin.as_str()), "{twin}");
        }
        for name in ["status_pengaduan", "ditutup", "masih_diproses"] {
            let twin = format!("cetak_{name}");
            assert!(names.contains(&twin.as_str()), "{twin}");
        }
    }

    #[test]
    fn the_sms_letters_fit_one_default_sms_budget() {
        let dir = tempfile::tempdir().expect("tempdir");
        let templates = Templates::load(dir.path()).expect("built-in");
        let context = minijinja::context! {
            number => "ADU-2026-00042",
            keyword => "LAPORKALTARA",
            status => "menunggu_persetujuan",
            open => true,
            overdue => true,
            deadline => "Kamis, 3 Desember 2026 pukul 10.52 WITA",
            answered => "Kamis, 3 Desember 2026 pukul 10.52 WITA",
            reason => "pengaduan yang sama sudah dicatat dengan nomor ADU-2026-00041",
            score => "3,67",
            replaced => true,
        };
        for name in [
            "sms_status_pengaduan",
            "sms_status_bukan_pelapor",
            "sms_ditutup",
            "sms_masih_diproses",
            "sms_penilaian_diterima",
        ] {
            let body = templates.render(name, &context).expect(name).body;
            let sms = crate::mail::sms::gsm7(&body);
            assert!(crate::mail::sms::septets(&sms) <= 3 * 153, "{name}: {sms}");
            assert!(
                name == "sms_status_bukan_pelapor" || sms.contains("ADU-2026-00042"),
                "{name} names the register number: {sms}"
            );
        }
    }

    #[test]
    fn a_template_without_subject_is_an_error() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("acknowledgment.txt"), "Halo\n").expect("write");
        let templates = Templates::load(dir.path()).expect("load");
        let err = templates
            .render("acknowledgment", minijinja::context! {})
            .unwrap_err();
        assert!(matches!(err, TemplateError::NoSubject { .. }));
    }
}
