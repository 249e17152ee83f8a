//! The office's books from a seeded register: the monthly report's numbers (JSON), its
//! register (CSV) and page (HTML), the agenda book and the sheets. No mail server is
//! needed: the register is written by SQL, as the procedure would have left it.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::{Value, json};

use crate::support::office::OFFLINE_SETTINGS;

/// The report is made as of this instant (WITA 1 December 2026, 09:00).
pub const NOW: &str = "2026-12-01T01:00:00Z";

/// A directory with the settings and a register holding the seeded month.
pub struct Books {
    pub dir: tempfile::TempDir,
}

impl Books {
    pub async fn seeded() -> Books {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("Settings.toml"), OFFLINE_SETTINGS).expect("settings");
        let books = Books { dir };
        let created = books.output(&["list"]);
        assert!(created.status.success(), "{created:?}");
        seed(&books.database()).await;
        books
    }

    pub fn database(&self) -> PathBuf {
        self.dir.path().join("register.db")
    }

    pub fn output(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_pengaduan"))
            .current_dir(self.dir.path())
            .args(args)
            .env_remove("PENGADUAN_CONFIG")
            .env("PENGADUAN_NOW", NOW)
            .output()
            .expect("cannot run pengaduan")
    }

    /// The command's stdout, after checking it succeeded.
    pub fn stdout(&self, args: &[&str]) -> String {
        let output = self.output(args);
        assert!(
            output.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).expect("UTF-8")
    }
}

/// One seeded complaint: hours after receipt at which it was disposed, drafted and
/// answered (`None`: not yet).
struct Seed {
    seq: i64,
    channel: &'static str,
    status: &'static str,
    received_at: &'static str,
    division: Option<&'static str>,
    stages: [Option<i64>; 3],
    reporter_name: &'static str,
}

const SEEDS: [Seed; 8] = [
    entry(
        1,
        "email",
        "selesai",
        "2026-11-02T01:00:00Z",
        Some("aptika"),
        [Some(2), Some(10), Some(20)],
    ),
    entry(
        2,
        "sms",
        "selesai",
        "2026-11-05T02:00:00Z",
        Some("sekretariat"),
        [Some(5), Some(40), Some(80)],
    ),
    entry(
        3,
        "email",
        "selesai",
        "2026-11-10T00:00:00Z",
        Some("aptika"),
        [Some(1), Some(3), Some(30)],
    ),
    entry(
        4,
        "email",
        "menunggu_jawaban",
        "2026-11-20T00:00:00Z",
        Some("aptika"),
        [Some(4), None, None],
    ),
    entry(
        5,
        "langsung",
        "ditutup",
        "2026-11-25T00:00:00Z",
        None,
        [None, None, None],
    ),
    entry(
        6,
        "email",
        "menunggu_disposisi",
        "2026-11-28T01:00:00Z",
        None,
        [None, None, None],
    ),
    // 23:59 WITA on 31 October: the month before.
    entry(
        7,
        "email",
        "selesai",
        "2026-10-31T15:59:00Z",
        Some("aptika"),
        [Some(1), Some(2), Some(3)],
    ),
    // Midnight WITA on 1 November: this month.
    entry(
        8,
        "email",
        "menunggu_disposisi",
        "2026-10-31T16:00:00Z",
        None,
        [None, None, None],
    ),
];

const fn entry(
    seq: i64,
    channel: &'static str,
    status: &'static str,
    received_at: &'static str,
    division: Option<&'static str>,
    stages: [Option<i64>; 3],
) -> Seed {
    Seed {
        seq,
        channel,
        status,
        received_at,
        division,
        stages,
        reporter_name: "Budi, warga Tanjung Selor",
    }
}

fn at(received_at: &str, hours: i64) -> String {
    let base = chrono::DateTime::parse_from_rfc3339(received_at).expect("time");
    (base + chrono::Duration::hours(hours))
        .with_timezone(&chrono::Utc)
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

fn seed_sql(s: &Seed) -> String {
    let id = s.seq;
    let deadline = at(s.received_at, 72);
    let division = s.division.map_or("NULL".into(), |d| format!("'{d}'"));
    let closed = if s.status == "ditutup" {
        "'spam'"
    } else {
        "NULL"
    };
    let mut sql = format!(
        "INSERT INTO complaints (id, number, year, seq, status, channel, reporter_name,
           reporter_email, subject, received_at, deadline_at, created_at, updated_at,
           division, round, closed_reason)
         VALUES ({id}, 'ADU-2026-{id:05}', 2026, {id}, '{status}', '{channel}', '{name}',
           'warga{id}@example.id', 'Jalan rusak nomor {id}', '{received}', '{deadline}',
           '{received}', '{received}', {division}, 1, {closed});
         INSERT INTO messages (id, direction, kind, complaint_id, message_key, subject,
           body_text, recorded_at)
         VALUES ({id}, 'in', 'complaint', {id}, 'c{id}@example.id', 'Jalan rusak nomor {id}',
           'Jalan di depan rumah nomor {id} berlubang.', '{received}');",
        status = s.status,
        channel = s.channel,
        name = s.reporter_name,
        received = s.received_at,
    );
    if let (Some(d), Some(division)) = (s.stages[0], s.division) {
        sql += &format!(
            "INSERT INTO dispositions (complaint_id, at, by_email, division, instruction, message_row)
             VALUES ({id}, '{}', 'kadis@kaltaraprov.go.id', '{division}', 'Segera tinjau lokasi', {id});",
            at(s.received_at, d)
        );
    }
    if let Some(h) = s.stages[1] {
        sql += &format!(
            "INSERT INTO drafts (id, complaint_id, round, at, by_email, text, message_row)
             VALUES ({id}, {id}, 1, '{}', 'kabid.aptika@kaltaraprov.go.id', 'Akan diperbaiki.', {id});",
            at(s.received_at, h)
        );
    }
    if let Some(h) = s.stages[2] {
        sql += &format!(
            "INSERT INTO decisions (complaint_id, draft_id, at, by_email, decision, text, message_row)
             VALUES ({id}, {id}, '{}', 'kasubbag@kaltaraprov.go.id', 'setuju', 'Akan diperbaiki.', {id});",
            at(s.received_at, h)
        );
    }
    sql
}

/// Ratings (three in November: 4, 2 and the form 4,4,3,3,3,4,2,3,4; one in October),
/// refused replies and quarantined mail on both sides of the month's bounds.
const OTHERS: &str = "
INSERT INTO ratings (complaint_id, score, elements_json, rated_at) VALUES
  (1, 4, NULL, '2026-11-03T00:00:00Z'),
  (2, 2, NULL, '2026-11-10T00:00:00Z'),
  (3, 3.3333333333333335, '[4,4,3,3,3,4,2,3,4]', '2026-11-12T00:00:00Z'),
  (7, 1, NULL, '2026-10-31T10:00:00Z');
INSERT INTO unauthorized (complaint_id, at, sender, reason, message_row) VALUES
  (1, '2026-11-15T00:00:00Z', 'palsu@example.net', 'no token', 1),
  (1, '2026-12-01T00:00:00Z', 'palsu@example.net', 'no token', 1);
INSERT INTO messages (direction, kind, message_key, recorded_at, quarantine_reason) VALUES
  ('in', 'quarantined', 'q1@example.net', '2026-11-15T00:00:00Z', 'unreadable'),
  ('in', 'quarantined', 'q2@example.net', '2026-11-30T15:59:59Z', 'unreadable'),
  ('in', 'quarantined', 'q3@example.net', '2026-10-31T15:00:00Z', 'unreadable');
";

pub async fn seed(database: &Path) {
    use sqlx::Connection;
    let url = format!("sqlite://{}", database.display());
    let mut connection = sqlx::SqliteConnection::connect(&url)
        .await
        .expect("cannot open the database");
    let mut sql: String = SEEDS.iter().map(seed_sql).collect();
    sql += OTHERS;
    sqlx::raw_sql(&sql)
        .execute(&mut connection)
        .await
        .expect("seed");
    connection.close().await.ok();
}

#[tokio::test]
async fn the_monthly_report_counts_the_seeded_month() {
    let books = Books::seeded().await;
    let text = books.stdout(&["report", "--month", "2026-11", "--format", "json"]);
    let report: Value = serde_json::from_str(&text).expect("JSON");
    let expected = json!({
        "month": "2026-11",
        "generated_at": NOW,
        "received": 7,
        "by_channel": {"email": 5, "langsung": 1, "sms": 1},
        "by_status": {"ditutup": 1, "menunggu_disposisi": 2, "menunggu_jawaban": 1,
                      "menunggu_persetujuan": 0, "selesai": 3},
        "by_unit": {"aptika": 3, "belum_didisposisi": 3, "sekretariat": 1},
        // Hours to answer 20, 80 and 30; the deadline is 72 hours.
        "answered": 3,
        "answered_within_deadline": 2,
        "answered_within_deadline_percent": 66.7,
        "median_hours_to_answer": 30.0,
        "p90_hours_to_answer": 80.0,
        // Answered late (2), open past the deadline (4, and 8 received at midnight WITA
        // on 1 November); 6 is due exactly now, not past.
        "overdue": ["ADU-2026-00008", "ADU-2026-00002", "ADU-2026-00004"],
        "stages": {
            "disposisi": {"count": 4, "median_hours": 3.0, "p90_hours": 5.0},
            "jawaban": {"count": 3, "median_hours": 8.0, "p90_hours": 35.0},
            "persetujuan": {"count": 3, "median_hours": 27.0, "p90_hours": 40.0},
        },
        // (4 + 2 + 30/9) / 3 × 25 = 77.777… → 77.78, B.
        "ikm": {"responses": 3, "score": 77.78, "grade": "B"},
        "bounced": 0,
        "unauthorized": 1,
        "quarantined": 2,
    });
    for (key, value) in expected.as_object().expect("object") {
        assert_eq!(&report[key], value, "{key} in {text}");
    }
    let days = report["received_by_day"].as_array().expect("days");
    assert_eq!(days.len(), 30);
    let by_day: Vec<u64> = days.iter().map(|d| d.as_u64().expect("count")).collect();
    assert_eq!(&by_day[..3], &[1, 1, 0], "8 on the 1st, 1 on the 2nd");
    assert_eq!(by_day.iter().sum::<u64>(), 7);

    // A month without complaints is a report of zeros, not an error.
    let empty: Value =
        serde_json::from_str(&books.stdout(&["report", "--month", "2025-01", "--format", "json"]))
            .expect("JSON");
    assert_eq!(empty["received"], 0);
    assert_eq!(empty["median_hours_to_answer"], Value::Null);
    assert_eq!(
        empty["ikm"],
        json!({"responses": 0, "score": null, "grade": null})
    );
}

#[tokio::test]
async fn the_report_as_csv_and_html_and_its_errors() {
    let books = Books::seeded().await;
    let csv = books.stdout(&["report", "--month", "2026-11", "--format", "csv"]);
    let lines: Vec<&str> = csv.split("\r\n").filter(|l| !l.is_empty()).collect();
    assert_eq!(
        lines.len(),
        8,
        "a header and the month's seven complaints: {csv}"
    );
    assert!(lines[0].starts_with("nomor,diterima,batas_waktu,kanal,pelapor"));
    assert_eq!(
        lines[2],
        "ADU-2026-00001,2026-11-02T01:00:00Z,2026-11-05T01:00:00Z,email,\
         \"Budi, warga Tanjung Selor\",Jalan rusak nomor 1,selesai,aptika,\
         2026-11-02T03:00:00Z,2026-11-02T21:00:00Z,ya,,4.00"
    );
    assert!(
        !csv.contains("@example.id"),
        "the reporter's address is confidential"
    );

    let out = books.dir.path().join("laporan.html");
    let out_arg = out.to_str().expect("path");
    books.stdout(&["report", "--month", "2026-11", "--out", out_arg]);
    let html = std::fs::read_to_string(&out).expect("written");
    assert!(html.contains("Laporan Pengaduan Masyarakat"));
    assert!(html.contains("Bulan November 2026"));
    assert_eq!(html.matches("<svg").count(), 4, "four inline charts");
    assert!(html.contains("77.78 (mutu B, Baik; 3 responden)"), "{html}");
    for absent in ["<script", "src=", "href=", "@import", "url("] {
        assert!(!html.contains(absent), "self-contained: {absent}");
    }

    let bad = books.output(&["report", "--month", "2026-13"]);
    assert_eq!(bad.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&bad.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("YYYY-MM"), "{stderr}");
}

#[tokio::test]
async fn the_agenda_book_and_the_sheets() {
    let books = Books::seeded().await;
    let csv = books.stdout(&["agenda", "--from", "2026-11-01", "--to", "2026-11-02"]);
    let numbers: Vec<&str> = csv
        .split("\r\n")
        .skip(1)
        .filter_map(|l| l.split(',').next())
        .filter(|n| !n.is_empty())
        .collect();
    assert_eq!(numbers, ["ADU-2026-00008", "ADU-2026-00001"], "{csv}");

    let html = books.stdout(&[
        "agenda",
        "--from",
        "2026-10-01",
        "--to",
        "2026-11-30",
        "--format",
        "html",
    ]);
    assert!(html.contains("Buku Agenda Pengaduan Masyarakat"));
    assert!(
        html.contains("1 Oktober 2026 s.d. 30 November 2026"),
        "{html}"
    );
    assert_eq!(html.matches("<td>ADU-2026-").count(), 8);
    assert!(
        html.contains("<td>2 November 2026 09.00</td>"),
        "WITA: {html}"
    );

    let reversed = books.output(&["agenda", "--from", "2026-11-02", "--to", "2026-11-01"]);
    assert_eq!(reversed.status.code(), Some(1));

    let sheet = books.stdout(&["sheet", "ADU-2026-00001"]);
    for expected in [
        "LEMBAR PENGADUAN",
        "LEMBAR DISPOSISI",
        "<td>ADU-2026-00001</td>",
        "Jalan di depan rumah nomor 1 berlubang.",
        "<td>aptika</td>",
        "Segera tinjau lokasi",
        "<td>2 November 2026 11.00 WITA</td>",
        "size: A4",
    ] {
        assert!(sheet.contains(expected), "{expected}: {sheet}");
    }
    let missing = books.output(&["sheet", "ADU-2026-09999"]);
    assert_eq!(missing.status.code(), Some(1));
}
