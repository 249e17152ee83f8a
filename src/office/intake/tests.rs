use super::*;
use crate::domain::Status;

fn thread() -> ComplaintRef {
    ComplaintRef {
        id: 1,
        number: RegisterNumber::new("ADU", 2026, 1),
        status: Status::MenungguDisposisi,
    }
}

#[test]
fn people_become_complaints_or_follow_ups() {
    assert_eq!(
        decide(&Classification::Person, Known::default(), 5),
        Plan::NewComplaint {
            acknowledge: Acknowledgment::Send
        }
    );
    let known = Known {
        thread: Some(thread()),
        from_reporter: true,
        ..Known::default()
    };
    assert_eq!(
        decide(&Classification::Person, known, 5),
        Plan::FollowUp(thread())
    );
    let stranger = Known {
        thread: Some(thread()),
        from_reporter: false,
        ..Known::default()
    };
    assert_eq!(
        decide(&Classification::Person, stranger, 5),
        Plan::ThirdParty(thread()),
        "a stranger in the thread is never the reporter"
    );
}

#[test]
fn acknowledgments_are_rate_limited() {
    let known = Known {
        recent_acknowledgments: 5,
        ..Known::default()
    };
    assert_eq!(
        decide(&Classification::Person, known, 5),
        Plan::NewComplaint {
            acknowledge: Acknowledgment::Suppressed {
                recent: 5,
                limit: 5
            }
        }
    );
}

#[test]
fn recorded_messages_are_only_moved() {
    let known = Known {
        already_recorded: Some(Destination::Quarantine),
        thread: Some(thread()),
        ..Known::default()
    };
    assert_eq!(
        decide(&Classification::Person, known, 5),
        Plan::AlreadyRecorded(Destination::Quarantine)
    );
}

#[test]
fn machines_are_never_answered() {
    let known = Known {
        thread: Some(thread()),
        ..Known::default()
    };
    assert!(matches!(
        decide(&Classification::AutoReply("Auto-Submitted"), known, 5),
        Plan::Machine {
            kind: InboundKind::AutoReply,
            thread: Some(_),
            ..
        }
    ));
    assert!(matches!(
        decide(
            &Classification::Bounce("null return path"),
            Known::default(),
            5
        ),
        Plan::Machine {
            kind: InboundKind::Bounce,
            thread: None,
            ..
        }
    ));
    assert_eq!(
        decide(&Classification::Quarantine("x".into()), Known::default(), 5),
        Plan::Quarantine("x".into())
    );
}

#[test]
fn status_questions_are_answered_within_the_acknowledgment_limit() {
    let asked = Asked {
        about: Some(thread()),
        number: None,
        from_reporter: true,
    };
    let known = |recent| Known {
        thread: Some(thread()),
        from_reporter: true,
        inquiry: Some(asked.clone()),
        recent_acknowledgments: recent,
        ..Known::default()
    };
    assert_eq!(
        decide(&Classification::Person, known(4), 5),
        Plan::StatusRequest {
            asked: asked.clone(),
            answer: Acknowledgment::Send
        }
    );
    assert_eq!(
        decide(&Classification::Person, known(5), 5),
        Plan::StatusRequest {
            asked: asked.clone(),
            answer: Acknowledgment::Suppressed {
                recent: 5,
                limit: 5
            }
        }
    );
    assert!(
        matches!(
            decide(&Classification::AutoReply("Auto-Submitted"), known(0), 5),
            Plan::Machine { .. }
        ),
        "an auto-responder asking STATUS is never answered"
    );
}

#[test]
fn only_the_reporter_rates() {
    let rating = crate::office::survey::read("4").expect("a rating");
    let known = |from_reporter| Known {
        thread: Some(thread()),
        from_reporter,
        rating: Some(rating.clone()),
        ..Known::default()
    };
    assert_eq!(
        decide(&Classification::Person, known(true), 5),
        Plan::Rating {
            thread: thread(),
            rating: rating.clone()
        }
    );
    assert_eq!(
        decide(&Classification::Person, known(false), 5),
        Plan::ThirdParty(thread())
    );
}
