//! The TOML half of config loading: a file is parsed once into a span-aware table, then each
//! table (`[settings]`, one `[[feed]]`, one `[hosts."..."]`) is deserialized on its own, so a
//! mistake in one never hides a mistake in another.
//!
//! Unknown keys come from `serde_ignored` while the raw structs deserialize; the keys a table
//! knows (for "did you mean") are read from the structs' derived `Deserialize` impls, so no
//! list of keys is kept beside them. A value of the wrong type is reported and dropped, and
//! the table deserialized again, so the other values of that table are still checked.

use std::ops::Range;

use serde::Deserialize;
use serde::de::{self, DeserializeOwned, Visitor};
use toml::Spanned;
use toml::de::{DeTable, DeValue, ValueDeserializer};

/// One problem in a file, located by byte offsets into its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Problem {
    pub span: Range<usize>,
    pub message: String,
    pub hint: Option<String>,
}

/// A table as messages name it, with the keys it accepts.
pub(crate) struct Section {
    pub name: String,
    pub keys: Vec<&'static str>,
    /// Said instead of the list of known keys in an unknown key's hint.
    pub note: Option<String>,
}

/// Tells which [`Section`] a path of keys below the deserialized table is (`[]` is the
/// table itself), or `None` for a path that names no table of ours.
pub(crate) type Sections<'a> = &'a dyn Fn(&[String]) -> Option<Section>;

/// A file cut into parts parsed apart: each `[[feed]]` with its `[feed.*]` sub-tables, and
/// everything else joined into one document. Parsing 10,000 feeds as one document would
/// hold every token, parse event and value of the file at once; parts keep memory to the
/// largest part, and a syntax error in one feed leaves the others readable.
pub(crate) struct Split {
    /// The `[[feed]]` parts, in file order, each as the byte ranges of its pieces (one,
    /// unless a `[feed.x]` table follows other tables, as TOML allows).
    pub feeds: Vec<Vec<Range<usize>>>,
    /// The other parts joined, with `(offset in rest, offset in file)` for each piece.
    pub rest: String,
    pub rest_map: Vec<(usize, usize)>,
}

/// Cuts a file before each top-level table header. Headers are found with the TOML lexer
/// (strings and comments are single tokens), outside any value's brackets.
pub(crate) fn split(text: &str) -> Split {
    use toml_parser::lexer::TokenKind;
    let mut cuts: Vec<(usize, Header)> = vec![(0, Header::Other)];
    let mut line_start = true;
    let mut depth = 0usize;
    let mut header: Option<usize> = None;
    for token in toml_parser::Source::new(text).lex() {
        let span = token.span();
        match token.kind() {
            TokenKind::Newline | TokenKind::Eof => {
                if let Some(start) = header.take() {
                    cuts.push((start, header_kind(&text[start..span.start()])));
                }
                line_start = true;
            }
            TokenKind::Whitespace | TokenKind::Comment => {}
            _ if header.is_some() => {}
            TokenKind::LeftSquareBracket if line_start && depth == 0 => {
                header = Some(span.start());
            }
            TokenKind::LeftSquareBracket | TokenKind::LeftCurlyBracket => {
                depth += 1;
                line_start = false;
            }
            TokenKind::RightSquareBracket | TokenKind::RightCurlyBracket => {
                depth = depth.saturating_sub(1);
                line_start = false;
            }
            _ => line_start = false,
        }
    }
    let mut split = Split {
        feeds: Vec::new(),
        rest: String::new(),
        rest_map: Vec::new(),
    };
    for (i, &(start, kind)) in cuts.iter().enumerate() {
        let end = cuts.get(i + 1).map_or(text.len(), |c| c.0);
        if start == end {
            continue;
        }
        match (kind, split.feeds.last_mut()) {
            (Header::FeedStart, _) => split.feeds.push(std::iter::once(start..end).collect()),
            // A feed's table belongs to the last [[feed]] before it, wherever it is.
            (Header::FeedSub, Some(feed)) => match feed.last_mut() {
                Some(last) if last.end == start => last.end = end,
                _ => feed.push(start..end),
            },
            _ => {
                split.rest_map.push((split.rest.len(), start));
                split.rest.push_str(&text[start..end]);
            }
        }
    }
    split
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Header {
    /// `[[feed]]`: a new feed.
    FeedStart,
    /// `[feed.select]` and the like: a table of the current feed.
    FeedSub,
    Other,
}

/// What a header line (from its `[` to the end of the line) opens.
fn header_kind(line: &str) -> Header {
    let compact: String = line
        .split('#')
        .next()
        .unwrap_or("")
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    if compact == "[[feed]]" {
        return Header::FeedStart;
    }
    if compact.starts_with("[feed.") || compact.starts_with("[[feed.") {
        return Header::FeedSub;
    }
    if !compact.contains(['"', '\'']) {
        return Header::Other;
    }
    // A quoted key (`[["feed"]]`): let the parser say what the header names.
    let Ok(doc) = DeTable::parse(line) else {
        return Header::Other;
    };
    match doc.get_ref().get("feed").map(|v| v.get_ref()) {
        Some(DeValue::Array(_)) => Header::FeedStart,
        Some(DeValue::Table(t)) if !t.is_empty() => Header::FeedSub,
        _ => Header::Other,
    }
}

/// Parses a whole file; syntax errors are all reported (the parser recovers after each).
pub(crate) fn parse(text: &str) -> Result<Spanned<DeTable<'_>>, Vec<Problem>> {
    let (table, errors) = DeTable::parse_recoverable(text);
    if errors.is_empty() {
        return Ok(table);
    }
    Err(errors
        .iter()
        .map(|e| Problem {
            span: e.span().unwrap_or(0..0),
            message: e.message().trim().to_string(),
            hint: None,
        })
        .collect())
}

/// What [`deserialize`] made of a table.
pub(crate) struct Read<T> {
    /// `None` only when the table cannot be read at all.
    pub value: Option<T>,
    pub problems: Vec<Problem>,
    /// Keys (dotted paths below the table) whose values were dropped for their type.
    pub dropped: Vec<String>,
}

/// Deserializes one table, reporting every unknown key and every value of the wrong type.
pub(crate) fn deserialize<T: DeserializeOwned>(
    mut value: Spanned<DeValue<'_>>,
    sections: Sections<'_>,
) -> Read<T> {
    let mut problems = Vec::new();
    let mut dropped = Vec::new();
    // Each failed pass drops the value it names, so this ends after at most one pass per value.
    loop {
        let mut ignored: Vec<Vec<String>> = Vec::new();
        let de = ValueDeserializer::from(value.clone());
        match serde_ignored::deserialize(de, |path| ignored.push(segments(&path))) {
            Ok(t) => {
                for path in &ignored {
                    problems.push(unknown_key(&value, path, sections));
                }
                return Read {
                    value: Some(t),
                    problems,
                    dropped,
                };
            }
            Err(e) => {
                let at = e.span().map(|s| s.start);
                problems.push(type_problem(&e, &value, sections));
                let key = at.and_then(|at| {
                    let path = value.get_ref().as_table().and_then(|t| key_path_at(t, at));
                    drop_value_at(&mut value, at).then_some(path)
                });
                match key {
                    Some(path) => dropped.push(path.unwrap_or_default().join(".")),
                    None => {
                        return Read {
                            value: None,
                            problems,
                            dropped,
                        };
                    }
                }
            }
        }
    }
}

/// The keys of a path as `serde_ignored` reports it, without the wrapper levels of
/// `Option`, sequences and `Spanned` (which deserializes through a private map).
fn segments(path: &serde_ignored::Path<'_>) -> Vec<String> {
    use serde_ignored::Path;
    match path {
        Path::Root => Vec::new(),
        Path::Map { parent, key } => {
            let mut v = segments(parent);
            if !key.starts_with("$__serde_spanned") {
                v.push(key.clone());
            }
            v
        }
        Path::Seq { parent, .. }
        | Path::Some { parent }
        | Path::NewtypeStruct { parent }
        | Path::NewtypeVariant { parent } => segments(parent),
    }
}

fn unknown_key(root: &Spanned<DeValue<'_>>, path: &[String], sections: Sections<'_>) -> Problem {
    let name = path.last().map_or("", String::as_str);
    let span = key_span(root, path).unwrap_or_else(|| root.span());
    let parent = &path[..path.len().saturating_sub(1)];
    match sections(parent) {
        Some(section) => {
            let list = section.keys.join(", ");
            let known = match &section.note {
                Some(note) => note.clone(),
                None => format!("known keys in {}: {list}", section.name),
            };
            let hint = match closest(name, &section.keys) {
                Some(k) => format!("did you mean `{k}`? {known}"),
                None => known,
            };
            Problem {
                span,
                message: format!("unknown key `{name}` in {}", section.name),
                hint: Some(hint),
            }
        }
        None => Problem {
            span,
            message: format!("unknown key `{}`", path.join(".")),
            hint: None,
        },
    }
}

/// The span of the key at `path` below `root`.
fn key_span(root: &Spanned<DeValue<'_>>, path: &[String]) -> Option<Range<usize>> {
    let (last, parents) = path.split_last()?;
    let mut table = root.get_ref().as_table()?;
    for key in parents {
        table = table.get(key.as_str())?.get_ref().as_table()?;
    }
    table.get_key_value(last.as_str()).map(|(k, _)| k.span())
}

fn type_problem(
    e: &toml::de::Error,
    root: &Spanned<DeValue<'_>>,
    sections: Sections<'_>,
) -> Problem {
    let span = e.span().unwrap_or_else(|| root.span());
    let key = root
        .get_ref()
        .as_table()
        .and_then(|t| key_path_at(t, span.start));
    let hint = key.map(|path| {
        let (name, parent) = path
            .split_last()
            .map_or(("", &[][..]), |(n, p)| (n.as_str(), p));
        let section = sections(parent).map_or_else(String::new, |s| format!(" of {}", s.name));
        format!("config/site.example.toml documents `{name}`{section} with its type")
    });
    Problem {
        span,
        message: plain_types(e.message().trim()),
        hint,
    }
}

/// serde names Rust types ("expected u64"); a config's reader thinks in TOML's.
fn plain_types(message: &str) -> String {
    let mut m = message.to_string();
    for (rust, toml) in [
        ("expected u64", "expected a non-negative integer"),
        ("expected u32", "expected a non-negative integer"),
        ("expected usize", "expected a non-negative integer"),
        ("expected i64", "expected an integer"),
        ("expected a sequence", "expected an array"),
        ("expected a map", "expected a table"),
        ("expected struct ", "expected a table "),
    ] {
        m = m.replace(rust, toml);
    }
    m
}

/// Whether `at` falls inside `span` (an empty span holds its start).
fn holds(span: &Range<usize>, at: usize) -> bool {
    span.start <= at && at < span.end.max(span.start + 1)
}

/// Whether the value, or anything below it, sits at `at`. A table's own span is only its
/// header, so its entries are searched too.
fn value_holds(v: &Spanned<DeValue<'_>>, at: usize) -> bool {
    holds(&v.span(), at)
        || match v.get_ref() {
            DeValue::Table(t) => t
                .iter()
                .any(|(k, v)| holds(&k.span(), at) || value_holds(v, at)),
            DeValue::Array(a) => a.iter().any(|x| value_holds(x, at)),
            _ => false,
        }
}

/// The keys leading to the innermost value at `at`.
fn key_path_at(table: &DeTable<'_>, at: usize) -> Option<Vec<String>> {
    let (k, v) = table
        .iter()
        .find(|(k, v)| holds(&k.span(), at) || value_holds(v, at))?;
    let mut path = vec![k.get_ref().to_string()];
    if let DeValue::Table(t) = v.get_ref()
        && let Some(rest) = key_path_at(t, at)
    {
        path.extend(rest);
    }
    Some(path)
}

/// Drops the innermost keyed value at `at` (a whole array when the bad value is an element).
fn drop_value_at(root: &mut Spanned<DeValue<'_>>, at: usize) -> bool {
    match root.get_mut() {
        DeValue::Table(t) => drop_in_table(t, at),
        _ => false,
    }
}

fn drop_in_table(table: &mut DeTable<'_>, at: usize) -> bool {
    let Some(key) = table
        .iter()
        .find(|(k, v)| holds(&k.span(), at) || value_holds(v, at))
        .map(|(k, _)| k.clone())
    else {
        return false;
    };
    if let Some(v) = table.get_mut(key.get_ref().as_ref())
        && let DeValue::Table(inner) = v.get_mut()
        && drop_in_table(inner, at)
    {
        return true;
    }
    table.remove(key.get_ref().as_ref());
    true
}

/// The known key nearest to a misspelt one, if any is close.
pub(crate) fn closest<'k>(name: &str, known: &[&'k str]) -> Option<&'k str> {
    known
        .iter()
        .map(|k| (strsim::damerau_levenshtein(name, k), *k))
        .filter(|(d, k)| *d <= 2.max(k.len() / 3))
        .min()
        .map(|(_, k)| k)
}

/// The field names of a struct, from its derived `Deserialize`: the derive hands them to the
/// deserializer, which here keeps them and stops.
pub(crate) fn fields<T: DeserializeOwned>() -> &'static [&'static str] {
    struct Fields<'a>(&'a mut &'static [&'static str]);

    impl<'de> de::Deserializer<'de> for Fields<'_> {
        type Error = de::value::Error;

        fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Self::Error> {
            Err(de::Error::custom("not a struct"))
        }

        fn deserialize_struct<V: Visitor<'de>>(
            self,
            _name: &'static str,
            fields: &'static [&'static str],
            _: V,
        ) -> Result<V::Value, Self::Error> {
            *self.0 = fields;
            Err(de::Error::custom("fields read"))
        }

        serde::forward_to_deserialize_any! {
            bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes
            byte_buf option unit unit_struct newtype_struct seq tuple tuple_struct map enum
            identifier ignored_any
        }
    }

    let mut out: &'static [&'static str] = &[];
    // The error is the point: the derive stops as soon as it has named its fields.
    let _ = T::deserialize(Fields(&mut out));
    out
}

/// Reads a value that must be a table; other values are reported as `problem`.
pub(crate) fn expect_table<'i>(
    value: Spanned<DeValue<'i>>,
    problem: impl FnOnce() -> (String, String),
) -> Result<Spanned<DeValue<'i>>, Problem> {
    if value.get_ref().is_table() {
        Ok(value)
    } else {
        let (message, hint) = problem();
        Err(Problem {
            span: value.span(),
            message,
            hint: Some(hint),
        })
    }
}

/// A table with no keys of its own: every key of it is reported as unknown (the top level
/// of an included file, whose entries are read apart).
#[derive(Deserialize, Default)]
pub(crate) struct NoKeys {}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize, Debug)]
    struct Inner {
        card: Option<Spanned<String>>,
        title: Option<Spanned<String>>,
    }

    #[derive(Deserialize, Debug)]
    struct Outer {
        id: Option<Spanned<String>>,
        max_items: Option<Spanned<i64>>,
        formats: Option<Vec<Spanned<String>>>,
        select: Option<Spanned<Inner>>,
    }

    fn sections(path: &[String]) -> Option<Section> {
        match path {
            [] => Some(Section {
                name: "[[feed]]".into(),
                keys: fields::<Outer>().to_vec(),
                note: None,
            }),
            [s] if s == "select" => Some(Section {
                name: "[feed.select]".into(),
                keys: fields::<Inner>().to_vec(),
                note: None,
            }),
            _ => None,
        }
    }

    fn run(text: &str) -> (Option<Outer>, Vec<(String, String)>) {
        let doc = parse(text).expect("syntax");
        let feed = doc
            .get_ref()
            .get("feed")
            .and_then(|f| f.get_ref().as_array())
            .and_then(|a| a.first())
            .cloned()
            .expect("a feed");
        let read = deserialize::<Outer>(feed, &sections);
        let (v, problems) = (read.value, read.problems);
        assert_eq!(
            read.dropped.len(),
            problems
                .iter()
                .filter(|p| p.message.starts_with("invalid type"))
                .count()
        );
        let got = problems
            .iter()
            .map(|p| (text[p.span.clone()].to_string(), p.message.clone()))
            .collect();
        (v, got)
    }

    #[test]
    fn fields_come_from_the_derive() {
        assert_eq!(fields::<Inner>(), ["card", "title"]);
        assert_eq!(fields::<Outer>(), ["id", "max_items", "formats", "select"]);
        assert!(fields::<NoKeys>().is_empty());
    }

    #[test]
    fn every_type_error_and_unknown_key_of_a_table_is_reported() {
        let (v, got) = run(
            "[[feed]]\nid = \"a\"\nmax_items = \"x\"\nformats = [\"rss\", 3]\nbogus = 1\n[feed.select]\ncard = 5\ntitel = \"h\"\ntitle = \"h3\"\n",
        );
        let v = v.expect("read after dropping the bad values");
        assert_eq!(v.id.map(Spanned::into_inner).as_deref(), Some("a"));
        assert!(v.max_items.is_none() && v.formats.is_none());
        let select = v.select.expect("select").into_inner();
        assert!(select.card.is_none());
        assert_eq!(select.title.map(Spanned::into_inner).as_deref(), Some("h3"));
        let mut got = got;
        got.sort();
        assert_eq!(
            got,
            vec![
                (
                    "\"x\"".to_string(),
                    "invalid type: string \"x\", expected an integer".to_string()
                ),
                (
                    "3".to_string(),
                    "invalid type: integer `3`, expected a string".to_string()
                ),
                (
                    "5".to_string(),
                    "invalid type: integer `5`, expected a string".to_string()
                ),
                (
                    "bogus".to_string(),
                    "unknown key `bogus` in [[feed]]".to_string()
                ),
                (
                    "titel".to_string(),
                    "unknown key `titel` in [feed.select]".to_string()
                ),
            ]
        );
    }

    #[test]
    fn unknown_keys_get_the_nearest_known_key() {
        let doc =
            parse("[[feed]]\nid = \"a\"\n[feed.select]\ntitel = \"h\"\n[feed.selct]\nx = 1\n")
                .expect("syntax");
        let feed = doc.get_ref()["feed"].get_ref().as_array().expect("array")[0].clone();
        let problems = deserialize::<Outer>(feed, &sections).problems;
        let hints: Vec<&str> = problems.iter().filter_map(|p| p.hint.as_deref()).collect();
        assert!(
            hints.iter().any(|h| h.starts_with("did you mean `title`?")),
            "{hints:?}"
        );
        assert!(
            hints
                .iter()
                .any(|h| h.starts_with("did you mean `select`?")),
            "{hints:?}"
        );
    }

    #[test]
    fn syntax_errors_are_all_reported() {
        let errors = parse("[settings]\n[[feed]\nid = \"x\"\ny = = 3\n").expect_err("bad");
        assert!(errors.len() >= 2, "{errors:?}");
        assert!(errors[0].message.contains("expected `]`"), "{errors:?}");
    }

    #[test]
    fn files_split_into_feeds_and_the_rest() {
        let text = "include = []\n[settings]\nx = [\n[1], # not a header\n]\ns = \"\"\"\n[[feed]]\n\"\"\"\n\n[[feed]]\nid = \"a\"\n[feed.select]\ncard = \"li\"\n  [hosts.\"h\"]\nn = 1\n[[ \"feed\" ]] # quoted\nid = \"b\"\n[ feed . select ]\n[feed]\n";
        let s = split(text);
        let feeds: Vec<String> = s
            .feeds
            .iter()
            .map(|p| p.iter().map(|r| &text[r.clone()]).collect())
            .collect();
        assert_eq!(
            feeds,
            [
                "[[feed]]\nid = \"a\"\n[feed.select]\ncard = \"li\"\n  ",
                "[[ \"feed\" ]] # quoted\nid = \"b\"\n[ feed . select ]\n"
            ]
        );
        assert!(
            s.rest.starts_with("include = []\n[settings]\nx = [\n[1]"),
            "{}",
            s.rest
        );
        assert!(
            s.rest
                .contains("s = \"\"\"\n[[feed]]\n\"\"\"\n\n[hosts.\"h\"]\nn = 1\n[feed]\n"),
            "{}",
            s.rest
        );
        // Every part of the rest maps back to where it was in the file.
        for (i, &(at, orig)) in s.rest_map.iter().enumerate() {
            let end = s.rest_map.get(i + 1).map_or(s.rest.len(), |m| m.0);
            assert_eq!(&s.rest[at..end], &text[orig..orig + end - at]);
        }
        assert!(parse(&s.rest).is_ok());
        for f in &feeds {
            assert!(parse(f).is_ok(), "{f}");
        }
    }

    /// Lines a config is made of, including the awkward ones: headers inside strings and
    /// arrays, quoted and spaced headers, CRLF, a table defined twice.
    const FRAGMENTS: &[&str] = &[
        "[[feed]]\n",
        "[[ \"feed\" ]]\r\n",
        "[feed.select]\n",
        "[feed.select.x]\n",
        "[settings]\n",
        "[hosts.\"a.org\"]\n",
        "[other]\n",
        "id = \"a\"\n",
        "n = 3 # [[feed]]\n",
        "card = \"li\"\n",
        "s = \"\"\"\n[[feed]]\n\"\"\"\n",
        "v = [\n[1],\n]\n",
        "t = { a = 1 }\n",
        "   \n",
        "# [settings]\n",
        "é = 'x'\n",
    ];

    fn as_table(text: &str) -> Option<toml::Table> {
        toml::from_str(text).ok()
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2000))]

        /// Parsing in parts reads exactly what parsing the whole file reads.
        #[test]
        fn parts_read_what_the_whole_file_reads(
            picks in proptest::collection::vec(0..FRAGMENTS.len(), 0..14)
        ) {
            let text: String = picks.iter().map(|&i| FRAGMENTS[i]).collect();
            let s = split(&text);
            if let Some(mut whole) = as_table(&text) {
                let rest = as_table(&s.rest).expect("the rest parses when the whole does");
                if s.feeds.is_empty() {
                    proptest::prop_assert_eq!(&rest, &whole, "{}", text);
                }
                let feeds = whole.remove("feed");
                if !s.feeds.is_empty() {
                    proptest::prop_assert_eq!(&rest, &whole, "{}", text);
                }
                let mut parts = Vec::new();
                for pieces in &s.feeds {
                    let part: String = pieces.iter().map(|r| &text[r.clone()]).collect();
                    let part = as_table(&part).expect("a part parses");
                    let mut list = part["feed"].as_array().expect("[[feed]] part").clone();
                    proptest::prop_assert_eq!(list.len(), 1);
                    parts.push(list.remove(0));
                }
                if !parts.is_empty() {
                    proptest::prop_assert_eq!(feeds, Some(toml::Value::Array(parts)), "{}", text);
                }
            }
            // Every byte of the file is in exactly one part.
            let rest_len: usize = s.rest.len();
            let feed_len: usize = s.feeds.iter().flatten().map(|r| r.len()).sum();
            proptest::prop_assert_eq!(rest_len + feed_len, text.len());
        }
    }

    #[test]
    fn closest_keys() {
        let known = ["max_items", "min_interval_ms", "title", "id"];
        assert_eq!(closest("max_item", &known), Some("max_items"));
        assert_eq!(closest("titel", &known), Some("title"));
        assert_eq!(closest("min_intervall_ms", &known), Some("min_interval_ms"));
        assert_eq!(closest("colour", &known), None);
    }
}
