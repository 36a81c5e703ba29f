//! Text helpers every field parser and detector shares: whitespace folding for strings
//! taken from a page, and the visible text of an element (inline markup flattened, block
//! boundaries kept as spaces). Pure; no other extraction module is needed here, so
//! `date.rs`, `fields.rs`, `meta.rs` and `detect.rs` depend on this and not on each other
//! for text.

use scraper::{ElementRef, Node};

/// Folds runs of whitespace (incl. NBSP, zero-width space, newlines, tabs) into single spaces and trims.
///
/// Zero-width characters (ZWSP, ZWNJ, word joiner, BOM) and soft hyphens are dropped rather than
/// turned into spaces: they render as nothing, and sites put them inside words as break hints,
/// so a space there would split "neuro\u{200B}science" into two words.
pub fn fold_ws(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut pending_space = false;
    for c in s.chars() {
        if is_invisible(c) {
            continue;
        }
        if c.is_whitespace() {
            pending_space = !out.is_empty();
            continue;
        }
        if pending_space {
            out.push(' ');
            pending_space = false;
        }
        out.push(c);
    }
    out
}

fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{200B}' | '\u{200C}' | '\u{2060}' | '\u{FEFF}' | '\u{00AD}'
    )
}

/// Words with at least one letter ("&" and "|" do not count).
pub fn alpha_words(s: &str) -> usize {
    s.split_whitespace()
        .filter(|w| w.chars().any(char::is_alphabetic))
        .count()
}

/// Elements whose text is never visible content.
pub(crate) fn is_hidden(name: &str) -> bool {
    matches!(name, "script" | "style" | "template" | "noscript" | "svg")
}

/// Elements that break a line when rendered: their boundaries become spaces so that
/// `<p>a</p><p>b</p>` reads "a b", while inline markup (`<em>`) joins without a gap.
pub(crate) fn is_block(name: &str) -> bool {
    matches!(
        name,
        "p" | "div"
            | "br"
            | "li"
            | "ul"
            | "ol"
            | "h1"
            | "h2"
            | "h3"
            | "h4"
            | "h5"
            | "h6"
            | "section"
            | "article"
            | "header"
            | "footer"
            | "figure"
            | "figcaption"
            | "blockquote"
            | "tr"
            | "td"
            | "th"
            | "dt"
            | "dd"
            | "hr"
            | "table"
    )
}

/// Visible text of an element, inline markup flattened, whitespace folded.
pub fn element_text(el: ElementRef<'_>) -> String {
    let mut raw = String::new();
    push_text(*el, &mut raw);
    fold_ws(&raw)
}

/// [`element_text`] without the subtrees of descendants for which `skip` is true.
pub fn element_text_without(el: ElementRef<'_>, skip: impl Fn(ElementRef<'_>) -> bool) -> String {
    use ego_tree::iter::Edge;
    let mut out = String::new();
    let mut skip_below: Option<ego_tree::NodeId> = None;
    for edge in el.traverse() {
        match edge {
            Edge::Open(n) if n.id() != el.id() && skip_below.is_none() => match n.value() {
                Node::Text(t) => out.push_str(t),
                Node::Element(e)
                    if is_hidden(e.name()) || ElementRef::wrap(n).is_some_and(&skip) =>
                {
                    skip_below = Some(n.id());
                }
                Node::Element(e) if is_block(e.name()) => out.push(' '),
                _ => {}
            },
            Edge::Close(n) if skip_below == Some(n.id()) => skip_below = None,
            Edge::Close(n) if n.id() != el.id() && skip_below.is_none() => {
                if let Node::Element(e) = n.value()
                    && is_block(e.name())
                {
                    out.push(' ');
                }
            }
            _ => {}
        }
    }
    fold_ws(&out)
}

/// Iterative, not recursive: a hostile page can nest elements thousands of levels deep, and
/// recursion that deep overflows the stack.
fn push_text(node: ego_tree::NodeRef<'_, Node>, out: &mut String) {
    use ego_tree::iter::Edge;
    let mut skip_below: Option<ego_tree::NodeId> = None;
    for edge in node.traverse() {
        match edge {
            Edge::Open(n) if n.id() != node.id() && skip_below.is_none() => match n.value() {
                Node::Text(t) => out.push_str(t),
                Node::Element(e) if is_hidden(e.name()) => skip_below = Some(n.id()),
                Node::Element(e) if is_block(e.name()) => out.push(' '),
                _ => {}
            },
            Edge::Close(n) if skip_below == Some(n.id()) => skip_below = None,
            Edge::Close(n) if n.id() != node.id() && skip_below.is_none() => {
                if let Node::Element(e) = n.value()
                    && is_block(e.name())
                {
                    out.push(' ');
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use scraper::{Html, Selector};

    use super::*;

    #[test]
    fn fold_ws_table() {
        let rows: &[(&str, &str)] = &[
            ("", ""),
            ("   ", ""),
            ("a", "a"),
            ("  a  ", "a"),
            ("a  b", "a b"),
            ("a\n\t b", "a b"),
            ("a\u{00A0}b", "a b"),
            ("a\u{00A0}\u{00A0} b", "a b"),
            ("a\u{2009}b", "a b"),
            ("a\u{3000}b", "a b"),
            ("a\r\nb\r\n", "a b"),
            ("a\u{200B} b", "a b"),
            ("\u{200B}a\u{200B}", "a"),
            ("neuro\u{200B}science", "neuroscience"),
            ("\u{FEFF}Title", "Title"),
            ("bio\u{00AD}chemistry", "biochemistry"),
            ("By\n      Jim Daley\n  ", "By Jim Daley"),
            ("Ünïcödé  stays", "Ünïcödé stays"),
            ("tab\tseparated\tvalues", "tab separated values"),
        ];
        for (input, want) in rows {
            assert_eq!(fold_ws(input), *want, "input {input:?}");
        }
    }

    #[test]
    fn element_text_flattens_inline_and_spaces_blocks() {
        let rows = [
            ("<h3>Mice <em>in</em> space</h3>", "Mice in space"),
            ("<h3>A<i>b</i>c</h3>", "Abc"),
            ("<h3><p>one</p><p>two</p></h3>", "one two"),
            (
                "<h3>x<script>var a=1</script>y<style>p{}</style></h3>",
                "xy",
            ),
            (
                "<h3>  Tom &amp; Jerry&nbsp;&#8217;s \n\t day </h3>",
                "Tom & Jerry \u{2019}s day",
            ),
            ("<h3>line<br>break</h3>", "line break"),
        ];
        let sel = Selector::parse("h3").expect("static");
        for (html, want) in rows {
            let doc = Html::parse_fragment(html);
            let el = doc.select(&sel).next().expect("h3");
            assert_eq!(element_text(el), want, "html {html:?}");
        }
    }
}
