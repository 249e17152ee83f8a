//! An office upgrading from the last version that kept message bytes inside SQLite
//! (schema 0007: `blob_chunks`, and a decoded copy of every attachment) keeps every
//! message, attachment description and byte: migrations 0008 and 0009 run on open, and
//! bytes written before the archive are still read from their chunks.

use sha2::{Digest, Sha384};
use sqlx::Connection;

use pengaduan::store::Store;

/// The migrations an installation of the previous version has applied.
const APPLIED: [(i64, &str, &str); 7] = [
    (
        1,
        "create register",
        include_str!("../../migrations/0001_create_register.sql"),
    ),
    (
        2,
        "add procedure",
        include_str!("../../migrations/0002_add_procedure.sql"),
    ),
    (
        3,
        "add deadline notices",
        include_str!("../../migrations/0003_add_deadline_notices.sql"),
    ),
    (
        4,
        "add sent copies",
        include_str!("../../migrations/0004_add_sent_copies.sql"),
    ),
    (
        5,
        "add worker lock",
        include_str!("../../migrations/0005_add_worker_lock.sql"),
    ),
    (
        6,
        "add cycles",
        include_str!("../../migrations/0006_add_cycles.sql"),
    ),
    (
        7,
        "chunk blobs",
        include_str!("../../migrations/0007_chunk_blobs.sql"),
    ),
];

/// Stores `bytes` the way schema 0007 did: a `blobs` row and chunks.
async fn old_blob(connection: &mut sqlx::SqliteConnection, bytes: &[u8]) -> String {
    let sha = pengaduan::mail::parse::sha256_hex(bytes);
    sqlx::query("INSERT INTO blobs (sha256, size) VALUES (?, ?)")
        .bind(&sha)
        .bind(bytes.len() as i64)
        .execute(&mut *connection)
        .await
        .expect("blob");
    for (seq, chunk) in bytes.chunks(7).enumerate() {
        sqlx::query("INSERT INTO blob_chunks (sha256, seq, data) VALUES (?, ?, ?)")
            .bind(&sha)
            .bind(seq as i64)
            .bind(chunk)
            .execute(&mut *connection)
            .await
            .expect("chunk");
    }
    sha
}

#[tokio::test]
async fn a_register_from_before_the_archive_keeps_every_message_and_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("pengaduan.db");
    let url = format!("sqlite://{}", path.display());
    let mut old = sqlx::SqliteConnection::connect(&format!("{url}?mode=rwc"))
        .await
        .expect("create the old database");
    sqlx::raw_sql(
        "CREATE TABLE _sqlx_migrations (version BIGINT PRIMARY KEY, description TEXT NOT NULL,
         installed_on TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP, success BOOLEAN NOT NULL,
         checksum BLOB NOT NULL, execution_time BIGINT NOT NULL)",
    )
    .execute(&mut old)
    .await
    .expect("migrations table");
    for (version, description, sql) in APPLIED {
        sqlx::raw_sql(sql)
            .execute(&mut old)
            .await
            .expect(description);
        sqlx::query(
            "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time)
             VALUES (?, ?, 1, ?, 0)",
        )
        .bind(version)
        .bind(description)
        .bind(Sha384::digest(sql.as_bytes()).to_vec())
        .execute(&mut old)
        .await
        .expect("applied");
    }

    // A complaint whose message carried a file, as 0007 stored them.
    let raw = b"From: Siti <siti@example.net>\r\nSubject: Jalan rusak\r\n\r\nFoto terlampir.\r\n";
    let file = b"\x89PNG a photo of the road";
    let (raw_sha, file_sha) = (
        old_blob(&mut old, raw).await,
        old_blob(&mut old, file).await,
    );
    let at = "2026-11-02T01:00:00Z";
    sqlx::query(
        "INSERT INTO complaints (id, number, year, seq, status, channel, reporter_email, subject,
                                 received_at, deadline_at, created_at, updated_at)
         VALUES (1, 'ADU-2026-00001', 2026, 1, 'menunggu_disposisi', 'email', 'siti@example.net',
                 'Jalan rusak', ?, ?, ?, ?)",
    )
    .bind(at)
    .bind(at)
    .bind(at)
    .bind(at)
    .execute(&mut old)
    .await
    .expect("complaint");
    sqlx::query(
        "INSERT INTO messages (id, direction, kind, complaint_id, message_key, subject, raw_sha256, recorded_at)
         VALUES (1, 'in', 'complaint', 1, 'k1', 'Jalan rusak', ?, ?)",
    )
    .bind(&raw_sha)
    .bind(at)
    .execute(&mut old)
    .await
    .expect("message");
    sqlx::query(
        "INSERT INTO attachments (message_row, position, filename, content_type, disposition, size, sha256)
         VALUES (1, 0, 'jalan.png', 'image/png', 'attachment', ?, ?)",
    )
    .bind(file.len() as i64)
    .bind(&file_sha)
    .execute(&mut old)
    .await
    .expect("attachment");
    // And a quarantined message.
    let junk = b"not an email at all";
    let junk_sha = old_blob(&mut old, junk).await;
    sqlx::query(
        "INSERT INTO messages (id, direction, kind, message_key, raw_sha256, quarantine_reason, recorded_at)
         VALUES (2, 'in', 'quarantined', 'k2', ?, 'not an email', ?)",
    )
    .bind(&junk_sha)
    .bind(at)
    .execute(&mut old)
    .await
    .expect("quarantined");
    old.close().await.expect("close");

    let store = Store::open(&url)
        .await
        .expect("the new version opens and migrates it");
    let complaint = store
        .complaint("ADU-2026-00001")
        .await
        .expect("read")
        .expect("the complaint is still there");
    let message = &complaint.messages[0];
    assert_eq!(message.attachments.len(), 1, "the file is still described");
    let attachment = &message.attachments[0];
    assert_eq!(attachment.filename.as_deref(), Some("jalan.png"));
    assert_eq!(
        (attachment.size, attachment.sha256.as_str()),
        (file.len() as i64, file_sha.as_str())
    );
    assert_eq!(
        store.quarantined_raw(2).await.expect("read"),
        Some(junk.to_vec()),
        "bytes stored in chunks are read back whole"
    );
}
