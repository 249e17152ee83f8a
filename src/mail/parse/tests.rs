use super::set_aside::clean_digest;
use super::*;

fn with_file(encoded: &str) -> Vec<u8> {
    format!(
            "From: Budi <budi@example.net>\r\nTo: diskominfo@kaltaraprov.go.id\r\nSubject: Foto\r\n\
             MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n\
             --b\r\nContent-Type: text/plain\r\n\r\nTerlampir.\r\n\
             --b\r\nContent-Type: image/jpeg; name=\"foto.jpg\"\r\nContent-Transfer-Encoding: base64\r\n\r\n\
             {encoded}\r\n--b--\r\n"
        )
        .into_bytes()
}

#[test]
fn a_clean_base64_file_keeps_its_text_to_travel_as_is() {
    use base64::Engine;
    let file: Vec<u8> = (0..200u8).collect();
    let text = base64::engine::general_purpose::STANDARD.encode(&file);
    let lines: Vec<&str> = text
        .as_bytes()
        .chunks(76)
        .map(|c| std::str::from_utf8(c).expect("ascii"))
        .collect();
    let raw = with_file(&lines.join("\r\n"));
    let m = parse(&raw);
    let a = &m.attachments[0];
    let at = a.encoded.clone().expect("where the text lies");
    assert_eq!(
        &raw[at],
        lines.join("\r\n").as_bytes(),
        "named by its place in the message"
    );
    assert!(a.bytes.is_empty(), "and not copied");
    assert_eq!(
        (a.size, a.sha256.as_str()),
        (200, sha256_hex(&file).as_str())
    );

    // Lines longer than RFC 2045 allows: decoded, to be encoded properly when sent on.
    let m = parse(&with_file(&text));
    let a = &m.attachments[0];
    assert_eq!(a.encoded, None);
    assert_eq!(a.bytes, file);
    assert_eq!(a.sha256, sha256_hex(&file));
}

#[test]
fn a_set_aside_file_decodes_as_mime_does_and_only_if_clean() {
    // "QR==" leaves bits after its one byte that are not zero: the SIMD decoder
    // refuses it, MIME ignores them, and so must the digest.
    let file = b"A".repeat(3 * 40_000 + 1);
    use base64::Engine;
    let canonical = base64::engine::general_purpose::STANDARD.encode(&file);
    assert!(canonical.ends_with("QQ=="));
    let stray = format!("{}QR==", &canonical[..canonical.len() - 4]);
    let lines = |text: &str| {
        text.as_bytes()
            .chunks(76)
            .map(|line| std::str::from_utf8(line).expect("ascii"))
            .collect::<Vec<_>>()
            .join("\r\n")
    };
    let expected = Some((file.len(), sha256_hex(&file)));
    assert_eq!(clean_digest(lines(&canonical).as_bytes()), expected);
    assert_eq!(clean_digest(lines(&stray).as_bytes()), expected);
    assert_eq!(clean_digest(b"QR=="), Some((1, sha256_hex(b"A"))));
    // The decoders check the alphabet: a stray character anywhere is not clean,
    // in the first block as in the last.
    for at in [100, canonical.len() - 10] {
        let mut foreign = canonical.clone().into_bytes();
        foreign[at] = b'*';
        let foreign = String::from_utf8(foreign).expect("ascii");
        assert_eq!(clean_digest(lines(&foreign).as_bytes()), None, "at {at}");
    }
}

#[test]
fn base64_travels_as_is_only_in_clean_crlf_lines() {
    use base64::Engine;
    let file: Vec<u8> = (0..=255u8).cycle().take(1000).collect();
    let text = base64::engine::general_purpose::STANDARD.encode(&file);
    let lines_of = |width: usize| -> Vec<String> {
        text.as_bytes()
            .chunks(width)
            .map(|c| String::from_utf8(c.to_vec()).expect("ascii"))
            .collect()
    };
    let clean = |encoded: &str| parse(&with_file(encoded)).attachments[0].encoded.is_some();
    let (full, short) = (lines_of(76), lines_of(64));
    assert!(clean(&full.join("\r\n")), "76-symbol lines");
    assert!(clean(&short.join("\r\n")), "shorter lines");
    assert!(!clean(&full.join("\n")), "bare LF");
    assert!(!clean(&lines_of(77).join("\r\n")), "77-symbol lines");
    let mut spaced = full.clone();
    spaced[1].replace_range(10..11, " ");
    assert!(!clean(&spaced.join("\r\n")), "a space inside a line");
    let mut padded = full.clone();
    padded[1].replace_range(74..76, "==");
    assert!(!clean(&padded.join("\r\n")), "padding before the end");
    for encoded in [full.join("\r\n"), short.join("\r\n")] {
        let a = &parse(&with_file(&encoded)).attachments[0];
        assert_eq!((a.size, a.sha256.clone()), (file.len(), sha256_hex(&file)));
    }
}

/// Everything parsing tells about a message, including what `Inbound`'s JSON skips.
fn everything(inbound: &Inbound) -> String {
    let files: Vec<_> = inbound
        .attachments
        .iter()
        .map(|a| (&a.bytes, &a.encoded))
        .collect();
    format!(
        "{}\n{:?}\n{:?}\n{:?}\n{:?}\n{:?}",
        serde_json::to_string(inbound).expect("json"),
        files,
        inbound.body_html,
        inbound.signals,
        inbound.authentication_results,
        inbound.defect
    )
}

/// Whether `raw` is parsed with files set aside (rather than as a whole).
fn set_aside_in(raw: &[u8]) -> bool {
    SetAside::find(raw, 1).is_some_and(|aside| {
        MessageParser::default()
            .parse(&aside.masked)
            .is_some_and(|message| aside.verified(&message))
    })
}

fn multipart(parts: &[String]) -> Vec<u8> {
    let mut raw = String::from(
        "From: Budi <budi@example.net>\r\nTo: diskominfo@kaltaraprov.go.id\r\nSubject: Berkas\r\n\
             Message-ID: <berkas@example.net>\r\nMIME-Version: 1.0\r\n\
             Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n\
             --b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nTerlampir berkasnya.\r\n",
    );
    for part in parts {
        raw.push_str("--b\r\n");
        raw.push_str(part);
        raw.push_str("\r\n");
    }
    raw.push_str("--b--\r\n");
    raw.into_bytes()
}

fn file_part(content_type: &str, name: &str, file: &[u8], width: usize, eol: &str) -> String {
    use base64::Engine;
    let text = base64::engine::general_purpose::STANDARD.encode(file);
    let lines: Vec<&str> = text
        .as_bytes()
        .chunks(width)
        .map(|c| std::str::from_utf8(c).expect("ascii"))
        .collect();
    format!(
        "Content-Type: {content_type}; name=\"{name}\"\r\nContent-Disposition: attachment; filename=\"{name}\"\r\n\
             Content-Transfer-Encoding: base64\r\n\r\n{}",
        lines.join(eol)
    )
}

#[test]
fn setting_files_aside_changes_nothing_parsing_tells() {
    let file = |n: usize, seed: u8| -> Vec<u8> {
        (0..n)
            .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
            .collect()
    };
    let same = |raw: &[u8]| {
        assert_eq!(
            everything(&parse_setting_aside(raw, 1)),
            everything(&parse_setting_aside(raw, usize::MAX)),
            "{}",
            String::from_utf8_lossy(&raw[..raw.len().min(400)])
        );
    };
    // Set aside: files of every padding, in lines of 76 and of 64.
    let files = multipart(&[
        file_part("application/pdf", "a.pdf", &file(30_000, 1), 76, "\r\n"),
        file_part("image/jpeg", "b.jpg", &file(30_001, 2), 64, "\r\n"),
        file_part("image/png", "c.png", &file(30_002, 3), 76, "\r\n"),
    ]);
    assert!(set_aside_in(&files));
    same(&files);
    let parsed = parse(&files);
    assert_eq!(parsed.attachments.len(), 3);
    for (a, (n, seed)) in parsed
        .attachments
        .iter()
        .zip([(30_000, 1), (30_001, 2), (30_002, 3)])
    {
        assert_eq!((a.size, a.sha256.clone()), (n, sha256_hex(&file(n, seed))));
        // Named by its text in the message, which decodes to the file.
        let text: Vec<u8> = files[a.encoded.clone().expect("named")]
            .iter()
            .copied()
            .filter(|b| !b.is_ascii_whitespace())
            .collect();
        use base64::Engine;
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(&text)
            .expect("base64");
        assert_eq!(decoded, file(n, seed));
    }
    // Not set aside (bare LF lines, a blank line before the boundary), or set aside
    // and then not confirmed by the parser (a base64 text body is not a file): parsed
    // whole, the same.
    let lf = multipart(&[file_part("image/jpeg", "d.jpg", &file(5000, 4), 76, "\n")]);
    assert!(!set_aside_in(&lf));
    same(&lf);
    let blank = multipart(&[file_part("image/jpeg", "e.jpg", &file(5000, 5), 76, "\r\n") + "\r\n"]);
    assert!(!set_aside_in(&blank));
    same(&blank);
    let text_body = multipart(&[file_part(
        "text/plain",
        "f.txt",
        &b"Jalan rusak. ".repeat(500),
        76,
        "\r\n",
    )
    .replace(
        "Content-Disposition: attachment; filename=\"f.txt\"\r\n",
        "",
    )]);
    assert!(SetAside::find(&text_body, 1).is_some() && !set_aside_in(&text_body));
    same(&text_body);
    // A forwarded message with a file inside: the file belongs to the attached
    // message, whose bytes must stay whole.
    let inner = String::from_utf8(multipart(&[file_part(
        "image/png",
        "g.png",
        &file(5000, 6),
        76,
        "\r\n",
    )]))
    .expect("ascii")
    .replace("boundary=\"b\"", "boundary=\"inner\"")
    .replace("--b", "--inner");
    let forwarded = multipart(&[format!("Content-Type: message/rfc822\r\n\r\n{inner}")]);
    assert!(!set_aside_in(&forwarded));
    same(&forwarded);
    // The whole corpus.
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    let mut seen = 0;
    for dir in ["ingest", "replies"] {
        for entry in std::fs::read_dir(root.join(dir)).expect("fixtures") {
            let path = entry.expect("entry").path();
            if path.extension().is_some_and(|e| e == "eml") {
                same(&std::fs::read(&path).expect("fixture"));
                seen += 1;
            }
        }
    }
    assert!(seen > 30, "{seen} fixtures");
}

#[test]
fn plain_message() {
    let raw = b"From: Budi <budi@example.net>\r\nTo: diskominfo@kaltaraprov.go.id\r\nSubject: Lampu mati\r\nMessage-ID: <a1@example.net>\r\nDate: Mon, 30 Nov 2026 10:00:00 +0800\r\n\r\nLampu jalan mati.\r\n";
    let m = parse(raw);
    assert_eq!(m.defect, None);
    assert_eq!(m.message_id.as_deref(), Some("a1@example.net"));
    assert_eq!(m.sender().map(|a| a.as_str()), Some("budi@example.net"));
    assert_eq!(
        m.from.as_ref().and_then(|p| p.name.as_deref()),
        Some("Budi")
    );
    assert_eq!(m.subject, "Lampu mati");
    assert_eq!(m.body_text, "Lampu jalan mati.");
    assert_eq!(
        m.date.map(|d| d.to_rfc3339()),
        Some("2026-11-30T02:00:00+00:00".into())
    );
}

#[test]
fn junk_is_defective() {
    assert!(
        parse(b"\x00\x01\x02 garbage without headers")
            .defect
            .is_some()
    );
    assert!(parse(b"").defect.is_some());
}

#[test]
fn html_only_becomes_text() {
    let raw = b"From: a@example.net\r\nSubject: x\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>Halo&nbsp;<b>Dinas</b></p><ul><li>satu</li></ul>";
    let m = parse(raw);
    assert!(m.body_text.contains("Halo"), "{}", m.body_text);
    assert!(m.body_text.contains("satu"), "{}", m.body_text);
    assert!(!m.body_text.contains("<p>"), "{}", m.body_text);
}

#[test]
fn thread_ids_put_in_reply_to_first_and_dedupe() {
    let raw = b"From: a@example.net\r\nIn-Reply-To: <b@x>\r\nReferences: <a@x> <b@x>\r\n\r\nhi";
    let m = parse(raw);
    assert_eq!(m.thread_ids(), vec!["b@x", "a@x"]);
}
