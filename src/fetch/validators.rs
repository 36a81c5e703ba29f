//! HTTP validators: what a conditional GET sends (`ETag`, `Last-Modified`) and the body
//! fingerprint that tells a 200 with the same bytes as last time from a changed page.
//!
//! The fetcher owns them: it sends the stored ones, answers [`super::Fetched::NotModified`]
//! for a 304 and [`super::Fetched::Unchanged`] for a 200 whose body hashes like the stored
//! one, and hands every page over with its fresh validators. The store only keeps them.

/// Conditional-GET validators and body fingerprint of one fetched page.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Validators {
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    /// Hash of the last body that was processed.
    pub body_hash: Option<String>,
}

impl Validators {
    /// The validators of an answer: its headers and the fingerprint of its body.
    pub fn of(etag: Option<String>, last_modified: Option<String>, body: &[u8]) -> Self {
        Validators {
            etag,
            last_modified,
            body_hash: Some(body_hash(body)),
        }
    }

    /// Whether `fresh` carries the same body as these (stored) validators describe.
    pub fn same_body(&self, fresh: &Validators) -> bool {
        self.body_hash.is_some() && self.body_hash == fresh.body_hash
    }
}

/// A 128-bit fingerprint of a body (xxh3: fast enough to hash every page, and collisions
/// between two versions of one page are not a practical concern).
pub fn body_hash(body: &[u8]) -> String {
    format!("{:032x}", xxhash_rust::xxh3::xxh3_128(body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_body_needs_a_stored_fingerprint() {
        let fresh = Validators::of(Some("\"e\"".into()), None, b"<html>a</html>");
        assert!(
            !Validators::default().same_body(&fresh),
            "nothing stored yet"
        );
        let stored = Validators::of(None, None, b"<html>a</html>");
        assert!(stored.same_body(&fresh), "headers do not matter, bytes do");
        let changed = Validators::of(None, None, b"<html>b</html>");
        assert!(!stored.same_body(&changed));
    }
}
