use super::html::cut_html;
use super::*;

fn text(body: &str) -> String {
    reply_text(body, None)
}

fn html(body: &str) -> String {
    reply_text("", Some(body))
}

#[test]
fn gmail_english_attribution_wrapped_over_two_lines() {
    let body = "aptika - mohon ditindaklanjuti segera\n\nOn Mon, 30 Nov 2026 at 10:00, Diskominfo Kaltara <\ndiskominfo@kaltaraprov.go.id> wrote:\n\n> Yth. Kepala Dinas,\n>\n> Pengaduan baru.\n";
    assert_eq!(text(body), "aptika - mohon ditindaklanjuti segera");
}

#[test]
fn gmail_indonesian_attribution_wrapped_and_unquoted_history() {
    let body = "Setuju.\n\nPada Sen, 30 Nov 2026 pukul 10.00, Diskominfo Kaltara\n<diskominfo@kaltaraprov.go.id> menulis:\nYth. Kasubbag,\nDraf jawaban terlampir.";
    assert_eq!(text(body), "Setuju.");
}

#[test]
fn attribution_without_quote_below_ends_the_reply() {
    let body = "Setuju.\n\nOn 30 Nov 2026, at 10:00, Diskominfo Kaltara <diskominfo@kaltaraprov.go.id> wrote:\n\nYth. Kasubbag,\nDraf jawaban.";
    assert_eq!(text(body), "Setuju.");
    let thunderbird = "Setuju.\n\nOn 30/11/2026 10.00, Diskominfo Kaltara wrote:\nDraf jawaban.";
    assert_eq!(text(thunderbird), "Setuju.");
}

#[test]
fn prose_that_looks_like_an_attribution_is_kept() {
    let body = "Pada hari Senin saya sudah cek ke lokasi.\nPada 1 Desember Bapak Kepala menulis:\nsegera perbaiki.\nOn Monday the team wrote:\nlaporan.";
    assert_eq!(text(body), body);
}

#[test]
fn a_single_dari_line_is_not_a_header_block() {
    let body = "Draf jawaban:\n\nDari: Kepala Dinas\nsudah kami teruskan ke PLN.\n\nFrom: the field team, confirmed.";
    assert_eq!(text(body), body);
}

#[test]
fn outlook_header_blocks_english_and_indonesian() {
    let english = "Setuju.\n\n________________________________\nFrom: Diskominfo Kaltara <diskominfo@kaltaraprov.go.id>\nSent: Monday, November 30, 2026 10:00 AM\nTo: Kasubbag\nSubject: x\n\nDraf.";
    assert_eq!(text(english), "Setuju.");
    let indonesian = "aptika\n\nDari: Diskominfo Kaltara <diskominfo@kaltaraprov.go.id>\nDikirim: Senin, 30 November 2026 10.00\nKepada: Kepala Dinas\nPerihal: x\n\nIsi.";
    assert_eq!(text(indonesian), "aptika");
    let samsung = "TOLAK: lokasi\n\nDari: Diskominfo <diskominfo@kaltaraprov.go.id>\nTanggal: 30/11/26 10.00 (GMT+08:00)\nKepada: kasubbag@kaltaraprov.go.id\nSubjek: x";
    assert_eq!(text(samsung), "TOLAK: lokasi");
    // Outlook's <b>From:</b> as html2text renders it.
    let bold = "Setuju.\n\n**Dari:** Diskominfo\n**Dikirim:** Senin\n\nIsi.";
    assert_eq!(text(bold), "Setuju.");
}

#[test]
fn a_lone_rule_of_underscores_is_kept() {
    let body = "Catatan:\n________________\nselesai.";
    assert_eq!(text(body), body);
}

#[test]
fn separators_end_the_reply() {
    for sep in [
        "-----Original Message-----",
        "-----Pesan Asli-----",
        "-------- Original Message --------",
        "-------- Pesan asli --------",
        "----- Original Message -----",
        "-----Ursprüngliche Nachricht-----",
        "-----Message d'origine-----",
        "-----Mensaje original-----",
        "-----Исходное сообщение-----",
        "-----原始邮件-----",
        "-----元のメッセージ-----",
        "-----원본 메시지-----",
        "------------------ Original ------------------",
        "------------------ 原始邮件 ------------------",
    ] {
        let body = format!("Setuju.\n\n{sep}\nFrom: x\nIsi lama.");
        assert_eq!(text(&body), "Setuju.", "separator {sep:?}");
    }
    let unknown_title = "Setuju.\n\n----- Alkuperäinen -----\nLähettäjä: x\nAihe: y\nIsi.";
    assert_eq!(text(unknown_title), "Setuju.");
    let prose = "Hasil rapat - penting -\n-- catatan --\nisi";
    assert_eq!(text(prose), prose);
}

#[test]
fn forwarded_messages_are_kept() {
    for sep in [
        "---------- Forwarded message ---------",
        "-------- Weitergeleitete Nachricht --------",
        "-------- Message transféré --------",
        "Begin forwarded message:",
        "Awal pesan yang diteruskan:",
    ] {
        let body = format!(
            "Mohon ditindaklanjuti.\n\n{sep}\nFrom: Budi <b@x.id>\nDate: Mon\n\nLampu mati.\n\n> lama"
        );
        assert_eq!(text(&body), body, "separator {sep:?}");
    }
    let gmail = r#"<div dir="ltr">Mohon dicek.<br><br><div class="gmail_quote"><div dir="ltr" class="gmail_attr">---------- Forwarded message ---------<br>From: Budi<br></div><div>Lampu mati.</div></div></div>"#;
    assert!(html(gmail).ends_with("Lampu mati."), "{}", html(gmail));
    let apple = r#"<div>Mohon dicek.<br><div><br><blockquote type="cite"><div>Begin forwarded message:</div><div>From: Budi</div><div>Lampu mati.</div></blockquote></div></div>"#;
    assert!(html(apple).contains("Lampu mati."), "{}", html(apple));
}

#[test]
fn attributions_in_other_languages_and_forms() {
    for attribution in [
        "Le lun. 30 nov. 2026 à 10:00, X <x@y.fr> a écrit :",
        "Am 30.11.2026 um 10:00 schrieb X <x@y.de>:",
        "El 30/11/26 a las 10:00, X escribió:",
        "X <x@y.cn> 于2026年11月30日周一 10:00写道：",
        "2026年11月30日(月) 10:00 X <x@y.jp>:",
        "2026-11-30 10:00 GMT+08:00 X <x@y.com>:",
        "пн, 30 нояб. 2026 г. в 10:00, X <x@y.ru>:",
        "* X <x@y.org> [2026-11-30 10:00:00 +0800]:",
        "Bob wrote:",
        "--- On Mon, 11/30/26, X <x@y.com> wrote:",
    ] {
        let quoted = format!("Setuju.\n\n{attribution}\n> lama\n");
        assert_eq!(text(&quoted), "Setuju.", "{attribution:?}");
        let at_end = format!("Setuju.\n\n{attribution}");
        assert_eq!(text(&at_end), "Setuju.", "{attribution:?} at the end");
    }
    let flattened = "Setuju.\n\n  On Mon, 30 Nov 2026 at 10:00, X<x@y.com> wrote:   Yth. Kepala";
    assert_eq!(text(flattened), "Setuju.");
    let gmail_wrapped =
        "Setuju.\n\nX <\nx@y.com>, 30 Kas 2026 Pzt, 10:00 tarihinde şunu yazdı:\n\n> a";
    assert_eq!(text(gmail_wrapped), "Setuju.");
    let after_prose =
        "Thanks for the 2 reports\nOn Mon, 30 Nov 2026 at 10:00, X <x@y.com> wrote:\n> a";
    assert_eq!(text(after_prose), "Thanks for the 2 reports");
}

#[test]
fn translated_header_blocks_and_list_footers() {
    for block in [
        "Von: X <x@y.de>\nGesendet: Montag\nAn: Y\nBetreff: z",
        "De : X\nEnvoyé : lundi\nÀ : Y\nObjet : z",
        "发件人: X\n发送时间: 2026年11月30日\n收件人: Y\n主题: z",
        "差出人: X\n送信日時: 2026年11月30日\n宛先: Y",
        "От: X\nОтправлено: 30 ноября\nКому: Y",
        "*From:* X\n*Sent:* Monday",
        "Date: Mon, 30 Nov 2026\nFrom: X\nTo: Y",
    ] {
        let body = format!("Setuju.\n\n{block}\n\nlama");
        assert_eq!(text(&body), "Setuju.", "{block:?}");
    }
    let groups =
        "Setuju.\n\n-- \nYou received this message because you are subscribed to the group.";
    assert_eq!(text(groups), "Setuju.");
    let mailman = "Setuju.\n_______________________________________________\nWarga mailing list\nhttps://x/mailman/listinfo/warga";
    assert_eq!(text(mailman), "Setuju.");
    let dash = "Setuju.\n\n—\nReply to this email directly, view it on the portal.";
    assert_eq!(text(dash), "Setuju.");
}

#[test]
fn mobile_signatures_in_other_languages() {
    for sig in [
        "Von meinem iPhone gesendet",
        "Envoyé de mon iPhone",
        "Enviado desde mi Galaxy",
        "iPhoneから送信",
        "发自我的iPhone",
        "나의 iPhone에서 보냄",
        "Отправлено с iPhone",
        "iPhone'umdan gönderildi",
        "Outlook für Android herunterladen<https://aka.ms/x>",
        "Sent from Mail<https://go.microsoft.com/fwlink/?LinkId=550986> for Windows",
    ] {
        let body = format!("Setuju.\n\n{sig}\n");
        assert_eq!(text(&body), "Setuju.", "signature {sig:?}");
    }
    let prose = "Setuju.\n\nPresented at the Samsung office.";
    assert_eq!(text(prose), prose);
}

#[test]
fn outlook_header_box_and_zimbra_and_roundcube_html() {
    let outlook = r#"<div class="WordSection1"><p>Setuju.</p><div><div style="border:none;border-top:solid #E1E1E1 1.0pt;padding:3.0pt 0cm 0cm 0cm"><p><b>Feladó:</b> X<br><b>Elküldve:</b> y</p></div></div><p>lama</p></div>"#;
    assert_eq!(html(outlook), "Setuju.");
    let zimbra = r#"<div>Setuju.</div><hr id="zwchr" data-marker="__DIVIDER__"><div data-marker="__HEADERS__"><b>From: </b>x</div><div data-marker="__QUOTED_TEXT__">lama</div>"#;
    assert_eq!(html(zimbra), "Setuju.");
    let roundcube = r#"<p>Setuju.</p><p id="reply-intro">Am 2026-11-30 10:00, schrieb X:</p><blockquote type="cite">lama</blockquote>"#;
    assert_eq!(html(roundcube), "Setuju.");
}

#[test]
fn interleaved_answers_are_kept_and_quotes_dropped() {
    let body = "Pada 01/12/2026 08.15, Diskominfo Kaltara menulis:\n> Mohon lengkapi lokasi.\n\nLokasi: Jl. Sengkawit.\n\n> Dan foto?\n> Terima kasih.\n\nFoto terlampir.\n\n> -- \n> otomatis";
    assert_eq!(text(body), "Lokasi: Jl. Sengkawit.\n\nFoto terlampir.");
    let tight = "A\n> q\nB\n>\n> r";
    assert_eq!(text(tight), "A\nB");
}

#[test]
fn signature_delimiter_is_exactly_dash_dash_space() {
    let body = "Draf jawaban.\n\n-- \nIr. Andi Pratama\nKabid Aptika\nHP 0812";
    assert_eq!(text(body), "Draf jawaban.");
    let not_delimiter = "Draf jawaban.\n--\nmasih isi.";
    assert_eq!(text(not_delimiter), not_delimiter);
}

#[test]
fn mobile_signatures_at_the_end_only() {
    for sig in [
        "Sent from my iPhone",
        "Sent from my iPad",
        "Sent from Outlook for Android",
        "Get Outlook for iOS<https://aka.ms/o0ukef>",
        "Dikirim dari iPhone saya",
        "Dikirim dari ponsel cerdas Samsung Galaxy saya.",
        "Dikirim dari Yahoo Mail di Android",
        "Sent from Yahoo Mail on Android",
        "Sent from my Galaxy",
        "Dikirim dari Samsung Galaxy A54",
        "[Get Outlook for Android][1]",
        "Get [Outlook for Android][1]",
    ] {
        let body = format!("Setuju.\n\n{sig}\n");
        assert_eq!(text(&body), "Setuju.", "signature {sig:?}");
    }
    let middle = "Sent from my iPhone ini rusak.\nDikirim dari kantor pada pagi hari.";
    assert_eq!(text(middle), middle);
    let in_middle = "Sent from my iPhone\nSetuju.";
    assert_eq!(text(in_middle), in_middle);
}

#[test]
fn footnotes_of_a_removed_signature_go_with_it() {
    let body = "Lihat [peta][1].\n\n[Get Outlook for Android][2]\n\n[1]: https://maps.example/x\n[2]: https://aka.ms/ghei36";
    assert_eq!(
        text(body),
        "Lihat [peta][1].\n\n[1]: https://maps.example/x"
    );
    let kept = "Lihat [peta][1].\n\n[1]: https://maps.example/x";
    assert_eq!(text(kept), kept);
}

#[test]
fn only_a_quote_gives_nothing() {
    assert_eq!(text("> a\n> b\n"), "");
    assert_eq!(
        text("On Mon, 30 Nov 2026 at 10:00, X <x@y> wrote:\n> a"),
        ""
    );
    assert_eq!(text("-- \nsig"), "");
    assert_eq!(html("<blockquote type=\"cite\">lama</blockquote>"), "");
}

#[test]
fn crlf_and_trailing_spaces() {
    assert_eq!(text("Setuju.  \r\n\r\n-- \r\nNama\r\n"), "Setuju.");
    assert_eq!(text("  a  b\r\nc\r\n"), "a  b\nc");
}

#[test]
fn gmail_html_quote_and_signature_are_cut() {
    let body = r#"<div dir="ltr">Setuju.<br clear="all"><br><span class="gmail_signature_prefix">-- </span><br><div dir="ltr" class="gmail_signature">Kasubbag Umum</div></div><br><div class="gmail_quote gmail_quote_container"><div dir="ltr" class="gmail_attr">On Mon, 30 Nov 2026 at 10:00, X &lt;x@y&gt; wrote:<br></div><blockquote class="gmail_quote">Draf</blockquote></div>"#;
    assert_eq!(html(body), "Setuju.");
}

#[test]
fn outlook_web_html_is_cut_at_append_on_send() {
    let body = r#"<html><head><style> P {margin-top:0;margin-bottom:0;} .x > div { } </style></head><body><div class="elementToProof">TOLAK: lengkapi lokasi</div><div id="appendonsend"></div><hr style="display:inline-block;width:98%"><div id="divRplyFwdMsg" dir="ltr"><b>Dari:</b> Diskominfo</div><div>isi lama</div></body></html>"#;
    assert_eq!(html(body), "TOLAK: lengkapi lokasi");
    let without_append = r#"<p>Setuju</p><div id="divRplyFwdMsg"><b>From:</b> x</div>lama"#;
    assert_eq!(html(without_append), "Setuju");
}

#[test]
fn thunderbird_html_keeps_answers_between_cited_blocks() {
    let body = r#"<html><body><div class="moz-cite-prefix">On 30/11/2026 10.00, Diskominfo Kaltara wrote:<br></div><blockquote type="cite" cite="mid:a@b"><div>Mohon lokasi.</div><blockquote type="cite">lebih lama</blockquote></blockquote><p>Lokasi: Jl. Sengkawit.</p><blockquote type="cite">Foto?</blockquote><p>Foto terlampir.</p><pre class="moz-signature" cols="72">-- 
Andi</pre></body></html>"#;
    assert_eq!(html(body), "Lokasi: Jl. Sengkawit.\n\nFoto terlampir.");
}

#[test]
fn plain_blockquote_only_at_the_end_is_a_quote() {
    let end = "<p>Setuju.</p><p>On 30/11/2026 10.00, X wrote:</p><blockquote><p>Draf</p></blockquote><p>&nbsp;</p>";
    assert_eq!(html(end), "Setuju.");
    let middle =
        "<p>Setuju, dengan kutipan:</p><blockquote>Pasal 3</blockquote><p>Terima kasih.</p>";
    assert_eq!(html(middle), "Setuju, dengan kutipan:\n\nTerima kasih.");
    let indent = r#"<div>Draf:</div><blockquote style="margin: 0 0 0 40px; border: none; padding: 0px"><div>Yth. Bapak Budi</div></blockquote>"#;
    assert_eq!(html(indent), "Draf:\nYth. Bapak Budi");
}

#[test]
fn yahoo_and_comments() {
    let body = r#"<div>Setuju<!-- <div class="gmail_quote"> --></div><div><br></div><div id="ymail_android_signature"><a href="https://go.onelink.me/x">Dikirim dari Yahoo Mail di Android</a></div><div id="yahoo_quoted_123" class="yahoo_quoted">lama</div>"#;
    assert_eq!(html(body), "Setuju");
}

#[test]
fn attributes_with_quotes_and_angle_brackets() {
    let body = r#"<div title="a > b" class='x gmail_quote'>lama</div>"#;
    assert_eq!(html(&format!("<p>baru</p>{body}")), "baru");
    let unquoted = "<p>baru</p><div class=gmail_quote>lama</div>";
    assert_eq!(html(unquoted), "baru");
}

#[test]
fn large_inputs_take_linear_time() {
    let depth = 20_000;
    let nested = format!(
        "<p>baru</p>{}lama{}<p>akhir</p>",
        "<blockquote><div>".repeat(depth),
        "</div></blockquote>".repeat(depth)
    );
    let cut = cut_html(&nested);
    assert!(cut.contains("akhir") && cut.contains("baru"));
    // Never closed: the first one runs to the end, so it is a quote at the end.
    let unclosed = format!("<p>baru</p>{}", "<blockquote>x".repeat(depth));
    assert!(cut_html(&unclosed) == "<p>baru</p>");
    let body = "a\n> q\n\n".repeat(depth);
    assert!(text(&body) == vec!["a"; depth].join("\n\n"));
}

/// Property-style: odd input never panics, and the result is trimmed, has no `\r`,
/// and every line of it is a line of the (normalized) input.
#[test]
fn odd_inputs_never_panic() {
    const PIECES: &[&str] = &[
        "",
        "\n",
        "\r\n",
        "\r",
        " ",
        ">",
        "> ",
        "-- ",
        "--",
        "On ",
        "Pada ",
        " wrote:",
        " menulis:",
        "10:00",
        "@",
        "From: x",
        "Dari: y",
        "Sent: z",
        "Kepada: k",
        "________",
        "-----Original Message-----",
        "Sent from my iPhone",
        "Dikirim dari iPhone saya",
        "é",
        "日本語",
        "👍🏽",
        "\u{feff}",
        "\u{a0}",
        "\t",
        "[1]: http://x",
        "[",
        "]",
        "<",
        "<div",
        "<div class=\"gmail_quote\">",
        "<blockquote type=cite>",
        "</blockquote>",
        "<!--",
        "-->",
        "\"",
        "'",
        "<style>",
        "</div>",
        "<br>",
        "&nbsp;",
        "id=appendonsend",
        "<hr id=\"zwchr\">",
        "=",
    ];
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let mut cases: Vec<String> = vec![
        String::new(),
        ">".into(),
        ">>>\n>".into(),
        "\r\n\r\n".into(),
        "-- ".into(),
        "Pada".into(),
        "On x wrote:".into(),
        "<".into(),
        "<a".into(),
        "<a b='".into(),
        "<!--".into(),
        "<style>".into(),
        "<blockquote>".into(),
    ];
    for _ in 0..3000 {
        let n = (next() % 12) as usize;
        cases.push(
            (0..n)
                .map(|_| PIECES[(next() % PIECES.len() as u64) as usize])
                .collect(),
        );
    }
    for case in &cases {
        let out = reply_text(case, None);
        assert_eq!(out, out.trim(), "{case:?}");
        assert!(!out.contains('\r'), "{case:?}");
        let input = normalize_text(&unix_newlines(case));
        let input_lines: Vec<&str> = input.lines().collect();
        for line in out.lines() {
            assert!(
                line.trim().is_empty() || input_lines.iter().any(|l| l.contains(line)),
                "{line:?} is not from {case:?}"
            );
        }
        let out = reply_text("", Some(case));
        assert_eq!(out, out.trim(), "{case:?}");
        assert!(!out.contains('\r'), "{case:?}");
    }
}
