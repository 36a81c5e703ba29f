//! Why a page gave no cards, when the page itself says why: an empty answer, a bot
//! challenge, or a script-only application shell. Pure: page text in, a sentence out.

use super::parse;
use super::select;

/// Visible text below this many characters, with scripts around, is an application shell.
const SHELL_TEXT_CHARS: usize = 200;

/// Explains a page on which the card selector (or detection) found nothing, when the page
/// says why itself.
pub fn diagnose_empty(html: &str) -> Option<&'static str> {
    if html.trim().is_empty() {
        return Some("the server sent an empty page");
    }
    let lower = html.to_ascii_lowercase();
    let has = |s: &str| lower.contains(s);
    if crate::fetch::challenge_markup(&lower) {
        return Some(
            "blocked by bot protection: the server sent a captcha/challenge page instead of the listing",
        );
    }
    if visible_text_len(html) < SHELL_TEXT_CHARS
        && (has("<script") || has("__next_data__") || has("id=\"root\"") || has("id=\"app\""))
    {
        return Some(
            "page is rendered by JavaScript: the HTML holds scripts but no article markup",
        );
    }
    None
}

fn visible_text_len(html: &str) -> usize {
    let Ok(doc) = parse::parse_document(html) else {
        return 0;
    };
    let Some(body) = doc
        .select(&scraper::Selector::parse("body").expect("static selector"))
        .next()
    else {
        return 0;
    };
    select::element_text(body).len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diagnosis_table() {
        let rows: &[(&str, Option<&str>)] = &[
            ("  \n", Some("empty page")),
            (
                "<html><head><title>Just a moment...</title></head><body><div id=cf-chl-widget></div></body></html>",
                Some("blocked by bot protection"),
            ),
            (
                "<html><body><div id=\"root\"></div><script src=app.js></script></body></html>",
                Some("rendered by JavaScript"),
            ),
            (
                "<html><body><script id=\"__NEXT_DATA__\">{}</script></body></html>",
                Some("rendered by JavaScript"),
            ),
            (
                "<html><body><p>Plenty of ordinary text here that is not a card listing at all, but a page that simply changed its markup, so the selector must be fixed by a person who knows the site. It goes on and on for a while to be long enough.</p><script></script></body></html>",
                None,
            ),
        ];
        for (html, want) in rows {
            let got = diagnose_empty(html);
            match want {
                Some(w) => assert!(got.is_some_and(|g| g.contains(w)), "{html}: {got:?}"),
                None => assert_eq!(got, None, "{html}"),
            }
        }
    }
}
