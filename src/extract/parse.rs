//! Bounded HTML parsing: page text in, `scraper::Html` or a [`TooComplex`] error out.
//!
//! html5ever follows the HTML5 algorithm faithfully, and that algorithm has costs that a
//! hostile page can blow up: every block start tag scans the stack of open elements (100k
//! nested `<div>`s take minutes), and mis-nested formatting elements are re-opened in every
//! paragraph (`<p><b id=1>x</p><p><b id=2>x</p>...` builds a tree quadratic in the input).
//! So the text is fed in small chunks, and between chunks the growing tree is measured
//! against limits that no real listing page comes near. Checks are O(depth) per chunk, so
//! they cost nothing on ordinary pages.

use std::time::{Duration, Instant};

use html5ever::tendril::{StrTendril, TendrilSink};
use html5ever::{QualName, driver, local_name, ns};
use scraper::{Html, HtmlTreeSink};

/// Why a page was refused; the message completes "page ...".
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TooComplex {
    #[error("nests elements more than {limit} levels deep (hostile or broken markup)")]
    TooDeep { limit: usize },
    #[error(
        "builds more than {limit} nodes from {bytes} bytes (mis-nested markup that multiplies elements)"
    )]
    TooManyNodes { limit: usize, bytes: usize },
    #[error("is too costly to parse: deep nesting around {nodes} nodes (hostile or broken markup)")]
    TooCostly { nodes: usize },
    #[error("took longer than {}s to parse", limit.as_secs())]
    TooSlow { limit: Duration },
}

/// Limits of one parse. The defaults leave ordinary pages (depth < 100, about one node per
/// 20 bytes) far below every bound.
#[derive(Debug, Clone, Copy)]
pub struct ParseLimits {
    /// Deepest nesting accepted. Browsers flatten beyond 512; real listing pages stay
    /// under 100.
    pub max_depth: usize,
    /// Nodes accepted per byte of input, plus [`ParseLimits::base_nodes`]: a page cannot spell
    /// out more than one node per 3 bytes, so more means the parser multiplied elements.
    pub nodes_per_byte: f64,
    pub base_nodes: usize,
    /// Bound on the sum of nesting depth over new nodes: the parser's own stack scans cost
    /// about this much.
    pub max_work: u64,
    /// Wall-clock backstop for costs the other limits do not model.
    pub deadline: Duration,
}

impl Default for ParseLimits {
    fn default() -> Self {
        ParseLimits {
            max_depth: 1024,
            nodes_per_byte: 0.5,
            base_nodes: 100_000,
            max_work: 400_000_000,
            deadline: Duration::from_secs(30),
        }
    }
}

/// Input is fed in pieces of this many bytes; nodes and depth can only grow by a bounded
/// amount within one piece.
const CHUNK: usize = 4 * 1024;

/// Parses a whole document within the default limits.
pub fn parse_document(text: &str) -> Result<Html, TooComplex> {
    parse_document_with(text, &ParseLimits::default())
}

/// Parses a whole document within `limits`.
pub fn parse_document_with(text: &str, limits: &ParseLimits) -> Result<Html, TooComplex> {
    let parser =
        driver::parse_document(HtmlTreeSink::new(Html::new_document()), Default::default());
    feed(parser, text, limits)
}

/// Parses a fragment (as if inside `<body>`) within the default limits.
pub fn parse_fragment(text: &str) -> Result<Html, TooComplex> {
    let parser = driver::parse_fragment(
        HtmlTreeSink::new(Html::new_fragment()),
        Default::default(),
        QualName::new(None, ns!(html), local_name!("body")),
        Vec::new(),
        false,
    );
    feed(parser, text, &ParseLimits::default())
}

fn feed(
    mut parser: driver::Parser<HtmlTreeSink>,
    text: &str,
    limits: &ParseLimits,
) -> Result<Html, TooComplex> {
    let started = Instant::now();
    let max_nodes = limits.base_nodes + (text.len() as f64 * limits.nodes_per_byte) as usize;
    let mut work = 0u64;
    let mut nodes_before = 0usize;
    let mut rest = text;
    while !rest.is_empty() {
        let mut cut = rest.len().min(CHUNK);
        while !rest.is_char_boundary(cut) {
            cut -= 1;
        }
        let (piece, tail) = rest.split_at(cut);
        rest = tail;
        parser.process(StrTendril::from_slice(piece));
        let sink = parser.tokenizer.sink.sink.0.borrow();
        let nodes = sink.tree.nodes().len();
        let depth = sink
            .tree
            .nodes()
            .next_back()
            .map_or(0, |n| n.ancestors().count());
        drop(sink);
        if depth > limits.max_depth {
            return Err(TooComplex::TooDeep {
                limit: limits.max_depth,
            });
        }
        if nodes > max_nodes {
            return Err(TooComplex::TooManyNodes {
                limit: max_nodes,
                bytes: text.len(),
            });
        }
        // Each new node cost about one scan of the open elements, as deep as the tree is now.
        work += (nodes - nodes_before) as u64 * depth as u64;
        nodes_before = nodes;
        if work > limits.max_work {
            return Err(TooComplex::TooCostly { nodes });
        }
        if started.elapsed() > limits.deadline {
            return Err(TooComplex::TooSlow {
                limit: limits.deadline,
            });
        }
    }
    Ok(parser.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nested(tag: &str, n: usize) -> String {
        format!(
            "<html><body>{}x{}</body></html>",
            format!("<{tag}>").repeat(n),
            format!("</{tag}>").repeat(n)
        )
    }

    #[test]
    fn ordinary_pages_parse_like_scraper_does() {
        let page = "<html><head><title>t</title></head><body><p>a<b>b</p><table><td>c</table>\
                    <noscript><img src=x></noscript></body></html>";
        let ours = parse_document(page).expect("ordinary page");
        assert_eq!(ours.html(), Html::parse_document(page).html());
        // Longer than one chunk, with a multi-byte character across the chunk boundary.
        let long = format!("<p>{}é</p>", "a".repeat(CHUNK - 4)).repeat(3);
        let ours = parse_document(&long).expect("long page");
        assert_eq!(ours.html(), Html::parse_document(&long).html());
        let frag = parse_fragment("<img src=\"/a.jpg\">").expect("fragment");
        assert_eq!(
            frag.html(),
            Html::parse_fragment("<img src=\"/a.jpg\">").html()
        );
    }

    #[test]
    fn deep_nesting_is_refused_quickly() {
        // (Nested <a> or bare <table> is no attack: the parser closes each before the next.)
        for tag in ["div", "span", "b", "table><tr><td", "p><div"] {
            let started = Instant::now();
            let err = parse_document(&nested(tag, 100_000))
                .err()
                .unwrap_or_else(|| panic!("{tag}: parsed"));
            assert!(
                matches!(
                    err,
                    TooComplex::TooDeep { .. } | TooComplex::TooCostly { .. }
                ),
                "{tag}: {err}"
            );
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "{tag}: {:?}",
                started.elapsed()
            );
        }
        // Moderate depth is fine.
        assert!(parse_document(&nested("div", 1000)).is_ok());
    }

    #[test]
    fn reopened_formatting_elements_are_refused() {
        // Each paragraph re-opens every earlier <b>: quadratic nodes from linear input.
        let bomb: String = (0..20_000).map(|i| format!("<p><b id={i}>x</p>")).collect();
        let Err(err) = parse_document(&bomb) else {
            panic!("formatting bomb parsed");
        };
        assert!(
            matches!(
                err,
                TooComplex::TooManyNodes { .. }
                    | TooComplex::TooDeep { .. }
                    | TooComplex::TooCostly { .. }
            ),
            "{err}"
        );
    }

    #[test]
    fn costly_wide_pages_under_a_deep_nest_are_refused() {
        let limits = ParseLimits {
            max_work: 1_000_000,
            ..ParseLimits::default()
        };
        let page = format!("{}{}", "<div>".repeat(900), "<p>x</p>".repeat(5000));
        let Err(err) = parse_document_with(&page, &limits) else {
            panic!("costly page parsed");
        };
        assert!(matches!(err, TooComplex::TooCostly { .. }), "{err}");
    }
}
