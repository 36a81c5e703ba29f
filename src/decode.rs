//! Bytes + Content-Type -> text. Order: BOM, then valid UTF-8 (pages that declare
//! ISO-8859-1 but send UTF-8 are common, and valid multi-byte UTF-8 is almost never an
//! accident), then the HTTP charset, then `<meta charset>` / `http-equiv`, then windows-1252.

use std::borrow::Cow;

use encoding_rs::{Encoding, UTF_8, WINDOWS_1252};

/// Decodes a page body to UTF-8 text; never fails (invalid sequences become U+FFFD). Borrows
/// the body when it already is UTF-8 (nearly every page), so the page is not copied.
pub fn decode<'a>(body: &'a [u8], content_type: Option<&str>) -> Cow<'a, str> {
    if let Some((enc, bom_len)) = Encoding::for_bom(body) {
        return enc.decode_without_bom_handling(&body[bom_len..]).0;
    }
    if let Ok(s) = std::str::from_utf8(body) {
        return Cow::Borrowed(s);
    }
    let enc = content_type
        .and_then(charset_param)
        .or_else(|| meta_charset(body))
        .filter(|e| *e != UTF_8)
        .unwrap_or(WINDOWS_1252);
    enc.decode_without_bom_handling(body).0
}

/// The encoding named by a Content-Type's `charset=` parameter.
pub fn charset_param(content_type: &str) -> Option<&'static Encoding> {
    content_type.split(';').skip(1).find_map(|p| {
        let (k, v) = p.split_once('=')?;
        k.trim()
            .eq_ignore_ascii_case("charset")
            .then(|| Encoding::for_label(v.trim().trim_matches(['"', '\'']).as_bytes()))
            .flatten()
    })
}

/// Prescans the first 4 KiB for `<meta charset=...>` or
/// `<meta http-equiv="Content-Type" content="...; charset=...">`.
pub fn meta_charset(body: &[u8]) -> Option<&'static Encoding> {
    let head = &body[..body.len().min(4096)];
    let lower: Vec<u8> = head.iter().map(u8::to_ascii_lowercase).collect();
    let mut from = 0;
    while let Some(pos) = find(&lower[from..], b"<meta") {
        let start = from + pos;
        let end = find(&lower[start..], b">").map_or(lower.len(), |e| start + e);
        let tag = &lower[start..end];
        if let Some(c) = find(tag, b"charset") {
            let rest = &tag[c + 7..];
            let rest = rest.trim_ascii_start();
            if let Some(rest) = rest.strip_prefix(b"=") {
                let rest = rest.trim_ascii_start();
                let rest = rest
                    .strip_prefix(b"\"")
                    .or_else(|| rest.strip_prefix(b"'"))
                    .unwrap_or(rest);
                let label_end = rest
                    .iter()
                    .position(|b| matches!(b, b'"' | b'\'' | b';' | b' ' | b'/' | b'>'))
                    .unwrap_or(rest.len());
                if let Some(enc) = Encoding::for_label(&rest[..label_end]) {
                    return Some(enc);
                }
            }
        }
        from = end;
    }
    None
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decode_table() {
        let latin1_cafe = b"<p>caf\xe9</p>".to_vec();
        let rows: Vec<(Vec<u8>, Option<&str>, &str)> = vec![
            (b"plain".to_vec(), None, "plain"),
            (
                "caf\u{e9}".as_bytes().to_vec(),
                Some("text/html; charset=iso-8859-1"),
                "caf\u{e9}",
            ),
            (
                latin1_cafe.clone(),
                Some("text/html; charset=ISO-8859-1"),
                "<p>caf\u{e9}</p>",
            ),
            (
                latin1_cafe.clone(),
                Some("text/html; charset=utf-8"),
                "<p>caf\u{e9}</p>",
            ),
            (latin1_cafe, None, "<p>caf\u{e9}</p>"),
            (
                b"\xef\xbb\xbfbom \xc3\xa9".to_vec(),
                Some("text/html; charset=windows-1252"),
                "bom \u{e9}",
            ),
            (b"\xff\xfea\x00".to_vec(), None, "a"),
            (
                b"<meta charset=\"koi8-r\"><p>\xf0\xd2\xc9\xd7\xc5\xd4</p>".to_vec(),
                None,
                "<meta charset=\"koi8-r\"><p>\u{41f}\u{440}\u{438}\u{432}\u{435}\u{442}</p>",
            ),
            (
                b"<META HTTP-EQUIV='Content-Type' CONTENT='text/html; charset=Shift_JIS'>\x82\xa0"
                    .to_vec(),
                None,
                "<META HTTP-EQUIV='Content-Type' CONTENT='text/html; charset=Shift_JIS'>\u{3042}",
            ),
            (
                b"\x80 euro".to_vec(),
                Some("text/html; charset=\"bogus\""),
                "\u{20ac} euro",
            ),
        ];
        for (bytes, ct, want) in rows {
            assert_eq!(decode(&bytes, ct), want, "bytes {bytes:?} ct {ct:?}");
        }
    }

    #[test]
    fn charset_param_table() {
        assert_eq!(charset_param("text/html; charset=UTF-8"), Some(UTF_8));
        assert_eq!(
            charset_param("text/html;charset=\"latin1\""),
            Some(WINDOWS_1252)
        );
        assert_eq!(charset_param("text/html"), None);
        assert_eq!(charset_param("text/html; charset=nope"), None);
    }
}
