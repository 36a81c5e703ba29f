//! Size and scheme limits for cards from any extractor, applied before merging.
//!
//! A hostile or broken page can put megabytes into one attribute or text node; stored and
//! rendered three times per run, that would bloat the history and every feed file. Texts are
//! cut at a character boundary with an ellipsis, so an item stays readable and stable from
//! run to run (the same page gives the same cut). Links and images must be http(s):
//! `javascript:` and `data:` URLs never reach a feed, whatever extractor produced the card.

use url::Url;

use crate::canon;
use crate::model::Card;

/// Longest title kept, in characters.
pub const MAX_TITLE: usize = 500;
/// Longest teaser kept, in characters.
pub const MAX_TEASER: usize = 2_000;
/// Longest byline kept, in characters.
pub const MAX_AUTHOR: usize = 300;
/// Most names kept from one byline.
pub const MAX_AUTHORS: usize = 20;
/// Longest category label kept, in characters.
pub const MAX_CATEGORY: usize = 100;
/// Categories kept per card.
pub const MAX_CATEGORIES: usize = 20;
/// Longest link or image URL accepted, in bytes (browsers and servers commonly stop near 8 KiB).
pub const MAX_URL: usize = 4_096;

/// Applies the limits; `Err` says why the card cannot be used at all.
pub fn clamp_card(mut card: Card) -> Result<Card, String> {
    if !is_web(&card.link) {
        return Err(format!(
            "card \"{}\": link scheme `{}` is not http(s); card skipped",
            short(&card.title),
            card.link.scheme()
        ));
    }
    if card.link.as_str().len() > MAX_URL {
        return Err(format!(
            "card \"{}\": link longer than {MAX_URL} bytes; card skipped",
            short(&card.title)
        ));
    }
    truncate(&mut card.title, MAX_TITLE);
    if let Some(t) = &mut card.teaser {
        truncate(t, MAX_TEASER);
    }
    card.authors.truncate(MAX_AUTHORS);
    for a in &mut card.authors {
        truncate(a, MAX_AUTHOR);
    }
    card.image = card
        .image
        .filter(|i| is_web(i) && i.as_str().len() <= MAX_URL);
    card.categories.truncate(MAX_CATEGORIES);
    for c in &mut card.categories {
        truncate(c, MAX_CATEGORY);
    }
    Ok(card)
}

fn is_web(url: &Url) -> bool {
    canon::is_web(url) && url.host().is_some()
}

/// Cuts `s` to at most `max` characters, ending with an ellipsis when cut.
fn truncate(s: &mut String, max: usize) {
    if let Some((cut, _)) = s.char_indices().nth(max.saturating_sub(1))
        && s[cut..].chars().nth(1).is_some()
    {
        s.truncate(cut);
        s.truncate(s.trim_end().len());
        s.push('…');
    }
}

/// The first 60 characters, for messages.
fn short(s: &str) -> String {
    let mut s = s.to_string();
    truncate(&mut s, 60);
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn card(link: &str) -> Card {
        Card {
            title: "T".into(),
            link: Url::parse(link).expect("url"),
            authors: Vec::new(),
            read_time: None,
            teaser: None,
            date: None,
            date_relative: false,
            image: None,
            categories: vec![],
        }
    }

    #[test]
    fn truncate_table() {
        let rows = [
            ("", 3, ""),
            ("abc", 3, "abc"),
            ("abcd", 3, "ab…"),
            ("ab cd", 4, "ab…"),
            ("éééé", 2, "é…"),
            ("🧬🧬🧬", 3, "🧬🧬🧬"),
        ];
        for (input, max, want) in rows {
            let mut s = input.to_string();
            truncate(&mut s, max);
            assert_eq!(s, want, "{input:?} max {max}");
            assert!(s.chars().count() <= max.max(1));
        }
    }

    #[test]
    fn huge_fields_are_cut_and_bad_urls_dropped() {
        let mut c = card("https://e.org/a");
        c.title = "t".repeat(5_000_000);
        c.teaser = Some("&amp;".repeat(1_000_000));
        c.authors = (0..50).map(|i| format!("{i}").repeat(10_000)).collect();
        c.categories = (0..100).map(|i| format!("c{i}").repeat(100)).collect();
        c.image = Some(Url::parse("data:image/png;base64,AAAA").expect("url"));
        let c = clamp_card(c).expect("kept");
        assert_eq!(c.title.chars().count(), MAX_TITLE);
        assert_eq!(
            c.teaser.as_deref().map(|t| t.chars().count()),
            Some(MAX_TEASER)
        );
        assert_eq!(c.authors.len(), MAX_AUTHORS);
        assert!(c.authors.iter().all(|a| a.chars().count() <= MAX_AUTHOR));
        assert_eq!(c.categories.len(), MAX_CATEGORIES);
        assert!(
            c.categories
                .iter()
                .all(|x| x.chars().count() <= MAX_CATEGORY)
        );
        assert_eq!(c.image, None);

        let mut img = card("https://e.org/b");
        img.image = Some(Url::parse("javascript:alert(1)").expect("url"));
        assert_eq!(clamp_card(img).expect("kept").image, None);

        for bad in [
            "javascript:alert(1)",
            "data:text/html,<script>x</script>",
            "file:///etc/passwd",
        ] {
            let err = clamp_card(card(bad)).expect_err(bad);
            assert!(err.contains("not http(s)"), "{err}");
        }
        let long = format!("https://e.org/{}", "a".repeat(MAX_URL));
        assert!(
            clamp_card(card(&long))
                .expect_err("long")
                .contains("longer than")
        );
    }
}
