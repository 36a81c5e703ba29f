//! The header rules of the HTTP surface as pure functions: content coding by
//! `Accept-Encoding`, conditional requests (`If-None-Match`, `If-Modified-Since`), the
//! `Cache-Control` max-age up to a feed's next fetch, and the token check.

use chrono::{DateTime, Utc};
use subtle::ConstantTimeEq;

use crate::serve::catalog::Encoding;

/// The coding to send for an `Accept-Encoding` header (RFC 9110 12.5.3): the acceptable one
/// with the highest q-value, brotli before gzip on a tie, identity when neither is
/// acceptable. `*` stands for codings not named.
pub fn negotiate(accept_encoding: Option<&str>) -> Encoding {
    let Some(header) = accept_encoding else {
        return Encoding::Identity;
    };
    let (mut br, mut gzip, mut star) = (None, None, None);
    for part in header.split(',') {
        let mut bits = part.split(';');
        let coding = bits.next().unwrap_or("").trim().to_ascii_lowercase();
        let q = bits
            .filter_map(|p| p.trim().strip_prefix("q=").or(p.trim().strip_prefix("Q=")))
            .filter_map(|q| q.trim().parse::<f32>().ok())
            .next()
            .unwrap_or(1.0);
        match coding.as_str() {
            "br" => br = Some(q),
            "gzip" | "x-gzip" => gzip = Some(q),
            "*" => star = Some(q),
            _ => {}
        }
    }
    let br = br.or(star).unwrap_or(0.0);
    let gzip = gzip.or(star).unwrap_or(0.0);
    if br > 0.0 && br >= gzip {
        Encoding::Br
    } else if gzip > 0.0 {
        Encoding::Gzip
    } else {
        Encoding::Identity
    }
}

/// Whether an `If-None-Match` list matches a document whose content hash is `hash`. Weak
/// comparison, as RFC 9110 13.1.2 asks: `W/` is ignored, and so is the coding suffix of our
/// tags (`-gzip`, `-br`), because every coding of one content is "not modified" alike.
pub fn etag_matches(if_none_match: &str, hash: &str) -> bool {
    if_none_match.split(',').any(|tag| {
        let tag = tag.trim();
        if tag == "*" {
            return true;
        }
        let tag = tag.strip_prefix("W/").unwrap_or(tag);
        let Some(inner) = tag.strip_prefix('"').and_then(|t| t.strip_suffix('"')) else {
            return false;
        };
        let inner = inner
            .strip_suffix("-gzip")
            .or_else(|| inner.strip_suffix("-br"))
            .unwrap_or(inner);
        inner == hash
    })
}

/// Whether a GET/HEAD can be answered 304. `If-None-Match` decides when present;
/// `If-Modified-Since` is only read without it (RFC 9110 13.1.3), and only when the document
/// has a `Last-Modified`.
pub fn not_modified(
    if_none_match: Option<&str>,
    if_modified_since: Option<&str>,
    hash: &str,
    last_modified: Option<DateTime<Utc>>,
) -> bool {
    if let Some(inm) = if_none_match {
        return etag_matches(inm, hash);
    }
    match (if_modified_since.and_then(parse_http_date), last_modified) {
        (Some(since), Some(lm)) => lm.timestamp() <= since.timestamp(),
        _ => false,
    }
}

/// An HTTP date (IMF-fixdate, or the obsolete RFC 850 and asctime forms).
pub fn parse_http_date(s: &str) -> Option<DateTime<Utc>> {
    httpdate::parse_http_date(s.trim())
        .ok()
        .map(DateTime::<Utc>::from)
}

/// `t` as an HTTP date.
pub fn http_date(t: DateTime<Utc>) -> String {
    httpdate::fmt_http_date(t.into())
}

/// Longest max-age given to a feed, whatever its schedule says.
pub const MAX_AGE_CAP: i64 = 86_400;

/// Seconds a reader may keep a feed without asking again: until the feed's next fetch
/// (nothing can change before it), 0 when that is due or unknown.
pub fn max_age(next_fetch: Option<DateTime<Utc>>, now: DateTime<Utc>) -> i64 {
    next_fetch.map_or(0, |n| (n - now).num_seconds().clamp(0, MAX_AGE_CAP))
}

/// Whether a request carries `token`, as `Authorization: Bearer TOKEN` or `?key=TOKEN`.
/// Compared in constant time (only the length can leak).
pub fn authorized(authorization: Option<&str>, query: Option<&str>, token: &str) -> bool {
    let same = |given: &[u8]| bool::from(given.ct_eq(token.as_bytes()));
    let bearer = authorization.and_then(|v| {
        let (scheme, rest) = v.trim().split_once(' ')?;
        scheme.eq_ignore_ascii_case("bearer").then(|| rest.trim())
    });
    if bearer.is_some_and(|b| same(b.as_bytes())) {
        return true;
    }
    query.is_some_and(|q| {
        url::form_urlencoded::parse(q.as_bytes()).any(|(k, v)| k == "key" && same(v.as_bytes()))
    })
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[test]
    fn negotiate_table() {
        use Encoding::*;
        let rows: &[(Option<&str>, Encoding)] = &[
            (None, Identity),
            (Some(""), Identity),
            (Some("gzip"), Gzip),
            (Some("x-gzip"), Gzip),
            (Some("br"), Br),
            (Some("gzip, deflate, br, zstd"), Br),
            (Some("gzip;q=1.0, br;q=0.5"), Gzip),
            (Some("br;q=0, gzip"), Gzip),
            (Some("gzip;q=0"), Identity),
            (Some("deflate"), Identity),
            (Some("*"), Br),
            (Some("*;q=0.5, br;q=0"), Gzip),
            (Some("identity"), Identity),
            (Some(" GZIP ; q=0.8 "), Gzip),
        ];
        for (header, want) in rows {
            assert_eq!(negotiate(*header), *want, "{header:?}");
        }
    }

    #[test]
    fn conditional_table() {
        let h = "0123abcd";
        let lm = Utc
            .with_ymd_and_hms(2026, 12, 1, 10, 0, 0)
            .single()
            .expect("valid");
        let at = http_date(lm);
        assert_eq!(at, "Tue, 01 Dec 2026 10:00:00 GMT");
        type Row<'a> = (
            Option<&'a str>,
            Option<&'a str>,
            Option<DateTime<Utc>>,
            bool,
        );
        let rows: &[Row<'_>] = &[
            (Some("\"0123abcd\""), None, Some(lm), true),
            (Some("W/\"0123abcd\""), None, Some(lm), true),
            (Some("\"0123abcd-gzip\""), None, Some(lm), true),
            (Some("\"0123abcd-br\""), None, None, true),
            (Some("\"x\", \"0123abcd\""), None, None, true),
            (Some("*"), None, None, true),
            (Some("\"0123abcd-zstd\""), None, None, false),
            (Some("0123abcd"), None, None, false),
            (Some("\"other\""), None, Some(lm), false),
            // If-None-Match decides alone when present.
            (Some("\"other\""), Some(at.as_str()), Some(lm), false),
            (None, Some(at.as_str()), Some(lm), true),
            (None, Some("Tue, 01 Dec 2026 10:00:01 GMT"), Some(lm), true),
            (None, Some("Tue, 01 Dec 2026 09:59:59 GMT"), Some(lm), false),
            (
                None,
                Some("Tuesday, 01-Dec-26 10:00:00 GMT"),
                Some(lm),
                true,
            ),
            (None, Some("Tue Dec  1 10:00:00 2026"), Some(lm), true),
            (None, Some("yesterday"), Some(lm), false),
            (None, Some(at.as_str()), None, false),
            (None, None, Some(lm), false),
        ];
        for (inm, ims, last, want) in rows {
            assert_eq!(not_modified(*inm, *ims, h, *last), *want, "{inm:?} {ims:?}");
        }
    }

    #[test]
    fn max_age_runs_to_the_next_fetch() {
        let now = Utc
            .with_ymd_and_hms(2026, 12, 1, 10, 0, 0)
            .single()
            .expect("valid");
        let rows = [
            (None, 0),
            (Some(now + chrono::Duration::seconds(90)), 90),
            (Some(now - chrono::Duration::seconds(5)), 0),
            (Some(now + chrono::Duration::days(3)), MAX_AGE_CAP),
        ];
        for (next, want) in rows {
            assert_eq!(max_age(next, now), want, "{next:?}");
        }
    }

    #[test]
    fn token_table() {
        let t = "s3cret-token-0123456789";
        let rows: &[(Option<&str>, Option<&str>, bool)] = &[
            (None, None, false),
            (Some("Bearer s3cret-token-0123456789"), None, true),
            (Some("bearer  s3cret-token-0123456789 "), None, true),
            (Some("Basic s3cret-token-0123456789"), None, false),
            (Some("Bearer s3cret-token-012345678"), None, false),
            (Some("Bearer s3cret-token-01234567890"), None, false),
            (None, Some("key=s3cret-token-0123456789"), true),
            (
                None,
                Some("format=atom&key=s3cret%2Dtoken-0123456789"),
                true,
            ),
            (None, Some("key=wrong&key=s3cret-token-0123456789"), true),
            (None, Some("key="), false),
            (None, Some("nokey=s3cret-token-0123456789"), false),
            (
                Some("Bearer nope"),
                Some("key=s3cret-token-0123456789"),
                true,
            ),
        ];
        for (auth, query, want) in rows {
            assert_eq!(authorized(*auth, *query, t), *want, "{auth:?} {query:?}");
        }
    }
}
