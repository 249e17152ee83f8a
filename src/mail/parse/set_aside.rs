//! Large clean base64 files, cut out of a message before the MIME parser sees it and
//! decoded and hashed here in blocks.

use mail_parser::{Encoding, MessagePart, PartType};
use sha2::{Digest, Sha256};

/// Large base64 files cut out of a message before the MIME parser sees it.
///
/// The parser decodes every base64 part a byte at a time (measured: a third of the CPU
/// of bulk ingest), only for the worker to hash the result and drop it. A file whose
/// text is clean base64 (see [`clean_lines`]) is found by its `Content-Transfer-Encoding`
/// line, cut out, and decoded and hashed here in blocks; the parser reads the rest of
/// the message, in which that part is empty. This is used only when the parser then
/// shows every cut where a file was cut from: an empty base64 attachment starting and
/// ending exactly there. Otherwise the whole message is parsed as it is.
#[derive(Default)]
pub(super) struct SetAside {
    /// The message without the cut texts.
    pub(super) masked: Vec<u8>,
    /// The cut texts, in order.
    pub(super) regions: Vec<Region>,
}

/// A file's base64 text cut out of a message, and what it decodes to.
pub(super) struct Region {
    /// Where the text lies in the raw message.
    pub(super) raw: std::ops::Range<usize>,
    /// Where it was cut from in the masked message.
    pub(super) at: usize,
    pub(super) size: usize,
    pub(super) sha256: String,
}

impl SetAside {
    pub(super) fn find(raw: &[u8], from: usize) -> Option<SetAside> {
        const LINE: &[u8] = b"\r\nContent-Transfer-Encoding:";
        if raw.len() < from {
            return None;
        }
        let (mut regions, mut cut, mut after) = (Vec::new(), 0, 0);
        for hit in memchr::memmem::find_iter(raw, LINE) {
            let value = hit + LINE.len();
            if hit < after {
                continue;
            }
            let Some(line_end) = memchr::memmem::find(&raw[value..], b"\r\n").map(|e| value + e)
            else {
                break;
            };
            if !raw[value..line_end]
                .trim_ascii()
                .eq_ignore_ascii_case(b"base64")
            {
                continue;
            }
            let Some(body) =
                memchr::memmem::find(&raw[line_end..], b"\r\n\r\n").map(|b| line_end + b + 4)
            else {
                break;
            };
            let Some(end) = memchr::memmem::find(&raw[body..], b"\r\n--").map(|e| body + e) else {
                break;
            };
            after = end;
            let text = &raw[body..end];
            // Trailing blank lines would be cut with it; the whole parse leaves them.
            let trimmed = text.last().is_some_and(|b| !b.is_ascii_whitespace());
            if text.len() < from.max(1) || !trimmed {
                continue;
            }
            let Some((size, sha256)) = clean_digest(text) else {
                continue;
            };
            regions.push(Region {
                raw: body..end,
                at: body - cut,
                size,
                sha256,
            });
            cut += end - body;
        }
        if regions.is_empty() {
            return None;
        }
        let mut masked = Vec::with_capacity(raw.len() - cut);
        let mut kept_from = 0;
        for region in &regions {
            masked.extend_from_slice(&raw[kept_from..region.raw.start]);
            kept_from = region.raw.end;
        }
        masked.extend_from_slice(&raw[kept_from..]);
        Some(SetAside { masked, regions })
    }

    /// Whether the parser saw each cut as an empty base64 attachment, exactly there.
    pub(super) fn verified(&self, message: &mail_parser::Message<'_>) -> bool {
        self.regions.iter().all(|&Region { at, .. }| {
            message.attachments.iter().any(|&id| {
                message.parts.get(id as usize).is_some_and(|part| {
                    part.offset_body as usize == at
                        && part.offset_end as usize == at
                        && part.encoding == Encoding::Base64
                        && !part.is_encoding_problem
                        && matches!(&part.body, PartType::Binary(b) | PartType::InlineBinary(b) if b.is_empty())
                })
            })
        })
    }

    /// The text cut from `at` in the masked message.
    pub(super) fn at(&self, at: usize) -> Option<&Region> {
        self.regions.iter().find(|region| region.at == at)
    }

    /// A position in the masked message, in the raw message.
    pub(super) fn to_raw(&self, at: usize) -> usize {
        at + self
            .regions
            .iter()
            .filter(|region| region.at <= at)
            .map(|region| region.raw.len())
            .sum::<usize>()
    }
}

/// What clean base64 text (see [`clean_lines`]) decodes to: its size and SHA-256,
/// decoded in blocks as the text is read. `None` if it is not clean or not whole
/// (padded to a multiple of four).
pub(super) fn clean_digest(text: &[u8]) -> Option<(usize, String)> {
    use base64::Engine;
    use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
    // Like the MIME parser: bits after the last whole byte are ignored.
    const ENGINE: GeneralPurpose = GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        GeneralPurposeConfig::new()
            .with_decode_allow_trailing_bits(true)
            .with_decode_padding_mode(DecodePaddingMode::Indifferent),
    );
    const BLOCK: usize = 64 << 10;
    let (mut hasher, mut size) = (Sha256::new(), 0);
    let mut symbols = Vec::with_capacity(BLOCK + 128);
    let mut decoded = vec![0u8; BLOCK / 4 * 3 + 96];
    // The decoders check the alphabet, so the lines are checked only for their shape.
    // SIMD first (the `base64` crate's decoder was 8 % of bulk ingest's CPU); where it
    // is stricter than MIME (bits after the last whole byte that are not zero), as MIME
    // does. A text neither decodes is not clean.
    let mut decode = |symbols: &[u8], hasher: &mut Sha256| {
        let n = match base64_simd::STANDARD
            .decode(symbols, base64_simd::Out::from_slice(&mut decoded))
        {
            Ok(bytes) => bytes.len(),
            Err(_) => ENGINE.decode_slice(symbols, &mut decoded).ok()?,
        };
        hasher.update(&decoded[..n]);
        Some(n)
    };
    let mut decodes = true;
    let (count, pads) = base64_lines::<false>(text, |line| {
        // Once a block fails, the answer is None: the rest is only checked for shape,
        // not gathered.
        if !decodes {
            return;
        }
        symbols.extend_from_slice(line);
        if symbols.len() >= BLOCK {
            let whole = symbols.len() / 4 * 4;
            match decode(&symbols[..whole], &mut hasher) {
                Some(n) => size += n,
                None => decodes = false,
            }
            symbols.drain(..whole);
        }
    })?;
    if !decodes || (count + pads) % 4 != 0 {
        return None;
    }
    size += decode(&symbols, &mut hasher)?;
    Some((size, hex::encode(hasher.finalize())))
}

/// A base64 part's text as it came, when it can travel as is (nothing but the base64
/// alphabet in CRLF lines of at most 76 characters, RFC 2045), and the length it decodes
/// to.
pub(super) fn base64_text<'r>(raw: &'r [u8], part: &MessagePart<'_>) -> Option<(&'r [u8], usize)> {
    if part.encoding != Encoding::Base64 {
        return None;
    }
    let text = raw.get(part.offset_body as usize..part.offset_end as usize)?;
    let end = text
        .iter()
        .rposition(|b| !b.is_ascii_whitespace())
        .map_or(0, |i| i + 1);
    let text = &text[..end];
    let (symbols, _) = clean_lines(text, |_| {})?;
    (!text.is_empty()).then_some((text, symbols * 3 / 4))
}

/// Whether `text` is nothing but the base64 alphabet in CRLF lines of at most 76
/// characters (RFC 2045), padded only at its end: its symbols and padding characters.
/// Each line is handed to `each` as it is checked.
pub(super) fn clean_lines(text: &[u8], each: impl FnMut(&[u8])) -> Option<(usize, usize)> {
    base64_lines::<true>(text, each)
}

/// [`clean_lines`], checking the alphabet only if `ALPHABET` (a decoder checks it too).
fn base64_lines<const ALPHABET: bool>(
    text: &[u8],
    mut each: impl FnMut(&[u8]),
) -> Option<(usize, usize)> {
    // This runs over every attached file, so it is written to be fast: a line is
    // usually 76 symbols and CRLF (memchr only for the others), and its symbols are
    // checked without a branch per byte (the loop vectorizes).
    const LINE: usize = 76;
    let (mut symbols, mut pads, mut rest) = (0usize, 0usize, text);
    while !rest.is_empty() {
        let (line, next) = if rest.get(LINE..LINE + 2) == Some(b"\r\n") {
            (&rest[..LINE], &rest[LINE + 2..])
        } else {
            match memchr::memchr(b'\n', rest) {
                Some(at) => (rest[..at].strip_suffix(b"\r")?, &rest[at + 1..]),
                None => (rest, &rest[rest.len()..]),
            }
        };
        let padded = line.strip_suffix(b"==").or_else(|| line.strip_suffix(b"="));
        let unpadded = padded.unwrap_or(line);
        let foreign = ALPHABET
            && unpadded.iter().fold(0u8, |foreign, &b| {
                let symbol = (b.wrapping_sub(b'A') < 26)
                    | (b.wrapping_sub(b'a') < 26)
                    | (b.wrapping_sub(b'0') < 10)
                    | (b == b'+')
                    | (b == b'/');
                foreign | u8::from(!symbol)
            }) != 0;
        // Padding ends the text, not just a line.
        if line.len() > LINE || foreign || (padded.is_some() && !next.is_empty()) {
            return None;
        }
        each(line);
        symbols += unpadded.len();
        pads += line.len() - unpadded.len();
        rest = next;
    }
    Some((symbols, pads))
}
