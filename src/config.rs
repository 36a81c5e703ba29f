//! Config loading: TOML text -> raw serde types -> validated [`Config`].
//!
//! A file is parsed once, span-aware; then `[settings]`, each `[hosts."..."]` and each
//! `[[feed]]` is deserialized and validated on its own (see [`document`]), and so are the
//! files the main file names in `include`. Every problem of every file is collected, each
//! with file, line, column, feed id and a hint, and reported sorted by file and line, so a
//! user fixes a config in one pass, and nothing touches the network first.
//!
//! Adding a key is one field in its raw struct plus its check where that table is validated:
//! unknown-key detection, "did you mean" and the test that `config/site.example.toml`
//! documents every key all read the structs' fields.

mod document;
mod include;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;
use toml::de::DeValue;
use url::Url;

use crate::extract::date::parse_tz;
use crate::extract::select::{CardRules, FieldSelector, compile_css};
use crate::feed::{Config, CrawlSettings, FeedSpec, HostOverride, ServeSettings, Settings};
use crate::render::Format;
use crate::store::StateLocation;
use document::{Problem, Section, fields};
pub use include::{Overlay, site_dir};

/// Article pages enrichment fetches per feed and run unless `enrich_budget` says otherwise.
pub const DEFAULT_ENRICH_BUDGET: usize = 10;

/// Accepted values of `every` and `max_every`.
const SCHEDULE_RANGE: std::ops::RangeInclusive<Duration> =
    Duration::from_secs(1)..=Duration::from_secs(365 * 86_400);

/// Default config path, relative to the working directory.
pub const DEFAULT_PATH: &str = "config/scifeed.toml";

/// One problem found in a config file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigIssue {
    pub file: PathBuf,
    pub line: usize,
    pub column: usize,
    /// The feed the problem belongs to, when it belongs to one.
    pub feed: Option<String>,
    pub message: String,
    pub hint: Option<String>,
}

impl fmt::Display for ConfigIssue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}: ", self.file.display(), self.line, self.column)?;
        if let Some(feed) = &self.feed {
            write!(f, "feed \"{feed}\": ")?;
        }
        f.write_str(&self.message)?;
        if let Some(hint) = &self.hint {
            write!(f, "\n    hint: {hint}")?;
        }
        Ok(())
    }
}

/// Why a config could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}", render_issues(.0))]
    Invalid(Vec<ConfigIssue>),
}

fn render_issues(issues: &[ConfigIssue]) -> String {
    let mut s = String::new();
    for i in issues {
        s.push_str(&i.to_string());
        s.push('\n');
    }
    let n = issues.len();
    s.push_str(&format!(
        "{n} error{} in config",
        if n == 1 { "" } else { "s" }
    ));
    s
}

/// The main file's own keys. `[[feed]]` and `[hosts]` are read entry by entry instead
/// ([`ENTRY_TABLES`]); a new top-level table (such as `[serve]`) is a field here.
#[derive(Deserialize, Default)]
struct RawMain {
    include: Option<Spanned<Vec<Spanned<String>>>>,
    #[serde(default)]
    settings: RawSettings,
    #[serde(default)]
    serve: RawServe,
}

/// `[serve]`, read by `scifeed serve` only.
#[derive(Deserialize, Default)]
struct RawServe {
    listen: Option<Spanned<String>>,
    public_url: Option<Spanned<String>>,
    token: Option<Spanned<String>>,
    notify_url: Option<Spanned<String>>,
    notify_after: Option<Spanned<i64>>,
    cache_mb: Option<Spanned<i64>>,
    max_connections: Option<Spanned<i64>>,
}

/// `public_url` when the config sets none; `serve` then uses its own address instead.
pub const DEFAULT_PUBLIC_URL: &str = "http://localhost/";

/// Top-level tables read one entry at a time, in the main file and in included files.
const ENTRY_TABLES: [&str; 2] = ["feed", "hosts"];

#[derive(Deserialize)]
struct RawHost {
    per_host: Option<Spanned<i64>>,
    min_interval_ms: Option<u64>,
}

#[derive(Deserialize, Default)]
struct RawSettings {
    output_dir: Option<String>,
    state: Option<String>,
    user_agent: Option<Spanned<String>>,
    max_items: Option<Spanned<i64>>,
    formats: Option<Spanned<Vec<Spanned<String>>>>,
    public_url: Option<Spanned<String>>,
    keep_days: Option<u32>,
    concurrency: Option<Spanned<i64>>,
    per_host: Option<Spanned<i64>>,
    min_interval_ms: Option<u64>,
    timeout_secs: Option<Spanned<u64>>,
    connect_timeout_secs: Option<Spanned<u64>>,
    read_timeout_secs: Option<Spanned<u64>>,
    retries: Option<u32>,
    retry_backoff_ms: Option<u64>,
    retry_after_cap_secs: Option<u64>,
    max_body_bytes: Option<Spanned<u64>>,
    max_redirects: Option<usize>,
    max_cards: Option<Spanned<i64>>,
    robots: Option<bool>,
    enrich_budget: Option<usize>,
    lease_secs: Option<Spanned<u64>>,
    every: Option<Spanned<String>>,
    max_every: Option<Spanned<String>>,
    heal: Option<bool>,
}

#[derive(Deserialize)]
struct RawFeed {
    id: Option<Spanned<String>>,
    title: Option<Spanned<String>>,
    description: Option<String>,
    url: Option<Spanned<String>>,
    base_url: Option<Spanned<String>>,
    max_items: Option<Spanned<i64>>,
    date_format: Option<Spanned<String>>,
    timezone: Option<Spanned<String>>,
    select: Option<Spanned<RawSelect>>,
    next: Option<Spanned<String>>,
    max_pages: Option<Spanned<i64>>,
    min_interval_ms: Option<u64>,
    auto: Option<Spanned<bool>>,
    enrich: Option<bool>,
    every: Option<Spanned<String>>,
    max_every: Option<Spanned<String>>,
    heal: Option<bool>,
}

#[derive(Deserialize)]
struct RawSelect {
    card: Option<Spanned<String>>,
    title: Option<Spanned<String>>,
    link: Option<Spanned<String>>,
    author: Option<Spanned<String>>,
    read_time: Option<Spanned<String>>,
    teaser: Option<Spanned<String>>,
    date: Option<Spanned<String>>,
    image: Option<Spanned<String>>,
    category: Option<Spanned<String>>,
}

fn section(name: impl Into<String>, keys: &[&'static str]) -> Option<Section> {
    Some(Section {
        name: name.into(),
        keys: keys.to_vec(),
        note: None,
    })
}

/// The tables of the main file, by path below its top level.
fn main_sections(path: &[String]) -> Option<Section> {
    match path {
        [] => {
            let mut keys = fields::<RawMain>().to_vec();
            keys.extend(ENTRY_TABLES);
            section("the top level", &keys)
        }
        [t] if t == "settings" => section("[settings]", fields::<RawSettings>()),
        [t] if t == "serve" => section("[serve]", fields::<RawServe>()),
        _ => None,
    }
}

/// The top level of an included file: entries only.
fn site_sections(path: &[String]) -> Option<Section> {
    path.is_empty().then(|| Section {
        name: "an included file".into(),
        keys: ENTRY_TABLES.to_vec(),
        note: Some(
            "an included file holds [[feed]] and [hosts.\"...\"] tables; [settings] and include belong in the main config"
                .into(),
        ),
    })
}

fn feed_sections(path: &[String]) -> Option<Section> {
    match path {
        [] => section("[[feed]]", fields::<RawFeed>()),
        [t] if t == "select" => section("[feed.select]", fields::<RawSelect>()),
        _ => None,
    }
}

/// Values given on the command line that take precedence over `[settings]`.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub output_dir: Option<PathBuf>,
    pub state: Option<PathBuf>,
}

/// The settings of an empty config: every default.
pub fn default_settings() -> crate::feed::Settings {
    parse("", Path::new("scifeed.toml"), &Overrides::default())
        .map(|c| c.settings)
        .expect("an empty config is valid")
}

/// Reads and validates a config file and the files it includes.
pub fn load(path: &Path, overrides: &Overrides) -> Result<Config, ConfigError> {
    load_with(path, overrides, &Overlay::default())
}

/// Validates config text; `path` names the file in messages and anchors relative paths and
/// include patterns.
pub fn parse(text: &str, path: &Path, overrides: &Overrides) -> Result<Config, ConfigError> {
    load_with(path, overrides, &Overlay::with(path, text.to_string()))
}

/// Like [`load`], with some files' text given by `overlay` instead of read from disk.
pub fn load_with(
    path: &Path,
    overrides: &Overrides,
    overlay: &Overlay,
) -> Result<Config, ConfigError> {
    let text = overlay.read(path).map_err(|source| ConfigError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let mut checker = Checker::default();
    let (settings, serve, includes, patterns) =
        FileCheck::new(&mut checker, path, &text).main(overrides, overlay);
    drop(text);
    let mut included = Vec::with_capacity(includes.len());
    for (file, from) in includes {
        match overlay.read(&file) {
            Ok(text) => FileCheck::new(&mut checker, &file, &text).site(&settings),
            Err(e) => checker.issue_at(
                &from,
                None,
                format!("cannot read included file {}: {e}", file.display()),
                None,
            ),
        }
        included.push(file);
    }
    let Checker {
        mut issues,
        feeds,
        hosts,
        ..
    } = checker;
    if issues.is_empty() {
        let mut settings = settings;
        settings.crawl.hosts = hosts;
        return Ok(Config {
            path: path.to_path_buf(),
            include: patterns,
            included,
            settings,
            serve,
            feeds,
        });
    }
    issues.sort_by_key(|(place, _)| (place.file, place.line, place.column));
    Err(ConfigError::Invalid(
        issues.into_iter().map(|(_, i)| i).collect(),
    ))
}

/// Where something is, for messages that point at two places.
#[derive(Debug, Clone)]
struct Place {
    /// Index into [`Checker::files`].
    file: usize,
    line: usize,
    column: usize,
}

/// What validation has gathered over all files so far.
#[derive(Default)]
struct Checker {
    /// Files in the order they were read (the sort order of issues).
    files: Vec<PathBuf>,
    issues: Vec<(Place, ConfigIssue)>,
    feeds: Vec<FeedSpec>,
    hosts: BTreeMap<String, HostOverride>,
    host_places: HashMap<String, Place>,
    /// Where each feed id was first defined.
    ids: HashMap<String, Place>,
    /// Selectors compiled so far, by source text: feeds of one site repeat the same
    /// selectors, and a clone shares the compiled form, so each is compiled and held once.
    selectors: HashMap<String, FieldSelector>,
    cards: HashMap<String, scraper::Selector>,
}

impl Checker {
    fn issue_at(&mut self, place: &Place, feed: Option<&str>, message: String, hint: Option<&str>) {
        let issue = ConfigIssue {
            file: self.files[place.file].clone(),
            line: place.line,
            column: place.column,
            feed: feed.map(str::to_string),
            message,
            hint: hint.map(str::to_string),
        };
        self.issues.push((place.clone(), issue));
    }
}

/// Validation of one file: its text, its line starts, the directory its relative paths and
/// patterns are anchored at.
struct FileCheck<'a> {
    c: &'a mut Checker,
    file: usize,
    text: &'a str,
    /// Byte offset of the start of every line.
    lines: Vec<usize>,
    dir: PathBuf,
    /// Keys (dotted paths) of the table being validated that were dropped for their type.
    dropped: Vec<String>,
    /// `(offset in the part being read, offset in the file)` for each piece of that part.
    shift: Vec<(usize, usize)>,
}

impl<'a> FileCheck<'a> {
    fn new(c: &'a mut Checker, path: &Path, text: &'a str) -> FileCheck<'a> {
        c.files.push(path.to_path_buf());
        let lines = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        FileCheck {
            file: c.files.len() - 1,
            c,
            text,
            lines,
            dropped: Vec::new(),
            shift: vec![(0, 0)],
            dir: path
                .parent()
                .map(Path::to_path_buf)
                .filter(|p| !p.as_os_str().is_empty())
                .unwrap_or_else(|| PathBuf::from(".")),
        }
    }

    /// Where an offset into the part being read is in the file.
    fn place(&self, offset: usize) -> Place {
        let piece = self.shift.partition_point(|&(at, _)| at <= offset);
        let (at, orig) = self
            .shift
            .get(piece.wrapping_sub(1))
            .copied()
            .unwrap_or((0, 0));
        let offset = (orig + offset - at).min(self.text.len());
        let line = self.lines.partition_point(|&start| start <= offset);
        let start = self.lines[line - 1];
        let column = self
            .text
            .get(start..offset)
            .map_or(0, |s| s.chars().count())
            + 1;
        Place {
            file: self.file,
            line,
            column,
        }
    }

    /// How a message in this file names a place: "line 3" here, "FILE:3:6" elsewhere.
    fn name_place(&self, p: &Place) -> String {
        if p.file == self.file {
            format!("on line {}", p.line)
        } else {
            format!(
                "in {}:{}:{}",
                self.c.files[p.file].display(),
                p.line,
                p.column
            )
        }
    }

    fn issue(
        &mut self,
        span: Range<usize>,
        feed: Option<&str>,
        message: String,
        hint: Option<&str>,
    ) {
        let place = self.place(span.start);
        self.c.issue_at(&place, feed, message, hint);
    }

    /// Reports a required key as missing, unless it was there with a value of the wrong type
    /// (already reported as such).
    fn missing(
        &mut self,
        key: &str,
        span: Range<usize>,
        feed: Option<&str>,
        message: &str,
        hint: Option<&str>,
    ) {
        if !self.dropped.iter().any(|d| d == key) {
            self.issue(span, feed, message.to_string(), hint);
        }
    }

    fn problems(&mut self, problems: Vec<Problem>, feed: Option<&str>) {
        for p in problems {
            self.issue(p.span, feed, p.message, p.hint.as_deref());
        }
    }

    /// Parses one part of the file (see [`document::split`]) and splits off its per-entry
    /// tables; `None` after syntax errors (each reported), since what follows them in that
    /// part cannot be trusted. Offsets in `part` map to the file through `self.shift`.
    fn parse_part<'p>(&mut self, part: &'p str) -> Option<(Spanned<DeValue<'p>>, Entries<'p>)> {
        let mut doc = match document::parse(part) {
            Ok(doc) => doc,
            Err(problems) => {
                self.problems(problems, None);
                return None;
            }
        };
        let entries = Entries {
            feed: doc.get_mut().remove("feed"),
            hosts: doc.get_mut().remove("hosts"),
        };
        let span = doc.span();
        Some((
            Spanned::new(span, DeValue::Table(doc.into_inner())),
            entries,
        ))
    }

    /// The main file: settings, its own hosts and feeds, and the files it includes (with
    /// the place of the pattern that named each) and its patterns as written.
    fn main(
        mut self,
        overrides: &Overrides,
        overlay: &Overlay,
    ) -> (Settings, ServeSettings, Vec<(PathBuf, Place)>, Vec<String>) {
        let split = document::split(self.text);
        self.shift = split.rest_map.clone();
        let mut out = None;
        if let Some((rest, entries)) = self.parse_part(&split.rest) {
            let read = document::deserialize::<RawMain>(rest, &main_sections);
            self.problems(read.problems, None);
            let raw = read.value.unwrap_or_default();
            let settings = self.settings(raw.settings, overrides);
            let serve = self.serve(raw.serve);
            self.rest_entries(entries, &settings, !split.feeds.is_empty());
            let patterns: Vec<Spanned<String>> =
                raw.include.map(Spanned::into_inner).unwrap_or_default();
            let files = self.includes(&patterns, overlay);
            let written = patterns.into_iter().map(Spanned::into_inner).collect();
            out = Some((settings, serve, files, written));
        }
        let (settings, serve, files, written) = out.unwrap_or_else(|| {
            let settings = self.settings(RawSettings::default(), overrides);
            (settings, ServeSettings::default(), Vec::new(), Vec::new())
        });
        self.feed_parts(&split.feeds, &settings);
        (settings, serve, files, written)
    }

    /// An included file: hosts and feeds only.
    fn site(mut self, settings: &Settings) {
        let split = document::split(self.text);
        self.shift = split.rest_map.clone();
        if let Some((rest, entries)) = self.parse_part(&split.rest) {
            let read = document::deserialize::<document::NoKeys>(rest, &site_sections);
            self.problems(read.problems, None);
            self.rest_entries(entries, settings, !split.feeds.is_empty());
        }
        self.feed_parts(&split.feeds, settings);
    }

    /// `[hosts]` and any feeds written otherwise than as `[[feed]]` parts (`feed = [...]`).
    fn rest_entries(&mut self, entries: Entries<'_>, settings: &Settings, feed_parts: bool) {
        if let Some(hosts) = entries.hosts {
            self.hosts(hosts);
        }
        if let Some(feeds) = entries.feed {
            if feed_parts {
                // TOML forbids defining `feed` twice; the parts are parsed apart, so say it here.
                self.issue(
                    feeds.span(),
                    None,
                    "`feed` is defined here and also as [[feed]] tables".into(),
                    Some("write every feed as a [[feed]] table"),
                );
            } else {
                self.feeds(feeds, settings);
            }
        }
    }

    /// Each `[[feed]]` part: parsed, read and validated on its own, then dropped.
    fn feed_parts(&mut self, parts: &[Vec<Range<usize>>], settings: &Settings) {
        let text = self.text;
        for pieces in parts {
            let joined: std::borrow::Cow<'_, str> = match pieces.as_slice() {
                [one] => text[one.clone()].into(),
                _ => pieces
                    .iter()
                    .map(|r| &text[r.clone()])
                    .collect::<String>()
                    .into(),
            };
            let mut at = 0;
            self.shift = pieces
                .iter()
                .map(|r| {
                    at += r.len();
                    (at - r.len(), r.start)
                })
                .collect();
            if let Some((_, entries)) = self.parse_part(&joined)
                && let Some(feeds) = entries.feed
            {
                self.feeds(feeds, settings);
            }
        }
    }

    /// The files of `include`, in pattern order, each pattern's matches sorted, each file
    /// once, never the main file itself.
    fn includes(
        &mut self,
        patterns: &[Spanned<String>],
        overlay: &Overlay,
    ) -> Vec<(PathBuf, Place)> {
        let mut seen: HashSet<PathBuf> = HashSet::new();
        seen.insert(include::normal(&self.c.files[self.file]));
        let mut out = Vec::new();
        for pattern in patterns {
            let place = self.place(pattern.span().start);
            let hint = "a pattern is relative to this file, e.g. include = [\"sites/*.toml\"]";
            match include::expand(&self.dir, pattern.get_ref(), overlay) {
                Ok(files) => {
                    for f in files {
                        if seen.insert(include::normal(&f)) {
                            out.push((f, place.clone()));
                        }
                    }
                }
                Err(include::PatternError::Syntax(e)) => self.issue(
                    pattern.span(),
                    None,
                    format!("include pattern {:?} is not a valid glob: {e}", pattern.get_ref()),
                    Some(hint),
                ),
                Err(include::PatternError::Missing(p)) => self.issue(
                    pattern.span(),
                    None,
                    format!("included file {} does not exist", p.display()),
                    Some("a path without wildcards must name a file; \"sites/*.toml\" includes whatever the directory holds, even nothing"),
                ),
                Err(include::PatternError::Io(e)) => self.issue(
                    pattern.span(),
                    None,
                    format!("cannot list the files of include pattern {:?}: {e}", pattern.get_ref()),
                    None,
                ),
            }
        }
        out
    }

    /// `[hosts."name"]` tables, each on its own, keyed by lower-case host name.
    fn hosts(&mut self, value: Spanned<DeValue<'_>>) {
        let span = value.span();
        let DeValue::Table(table) = value.into_inner() else {
            self.issue(
                span,
                None,
                "`hosts` must hold [hosts.\"name\"] tables".into(),
                Some("[hosts.\"www.example.org\"] then per_host = 2 on the next line"),
            );
            return;
        };
        for (name, value) in table {
            let name = Spanned::new(name.span(), name.get_ref().to_string());
            let value = match document::expect_table(value, || {
                (
                    format!("[hosts.{:?}] must be a table", name.get_ref()),
                    "[hosts.\"www.example.org\"] then per_host = 2 on the next line".into(),
                )
            }) {
                Ok(v) => v,
                Err(p) => {
                    self.problems(vec![p], None);
                    continue;
                }
            };
            let label = format!("[hosts.{:?}]", name.get_ref());
            let sections = |path: &[String]| {
                if path.is_empty() {
                    section(label.clone(), fields::<RawHost>())
                } else {
                    None
                }
            };
            let read = document::deserialize::<RawHost>(value, &sections);
            self.problems(read.problems, None);
            if let Some(raw) = read.value {
                self.host(name, raw);
            }
        }
    }

    fn host(&mut self, name: Spanned<String>, host: RawHost) {
        let key = name.get_ref().trim().to_ascii_lowercase();
        let parsed = Url::parse(&format!("http://{key}/")).ok();
        let plain = parsed.as_ref().is_some_and(|u| {
            u.host_str() == Some(key.as_str()) && u.port().is_none() && u.path() == "/"
        });
        if !plain {
            self.issue(
                name.span(),
                None,
                format!("[hosts] key {:?} is not a host name", name.get_ref()),
                Some("write the bare host, without scheme, port or path: [hosts.\"www.example.org\"]"),
            );
            return;
        }
        if let Some(first) = self.c.host_places.get(&key).cloned() {
            let at = self.name_place(&first);
            self.issue(
                name.span(),
                None,
                format!("[hosts.\"{key}\"] is set twice (first {at})"),
                Some("give each host one [hosts] table"),
            );
            return;
        }
        let place = self.place(name.span().start);
        self.c.host_places.insert(key.clone(), place);
        let per_host = host.per_host.map(|n| {
            let what = format!("[hosts.\"{key}\"] per_host");
            self.positive(Some(n), 1, &what, None)
        });
        self.c.hosts.insert(
            key,
            HostOverride {
                per_host,
                min_interval: host.min_interval_ms.map(Duration::from_millis),
            },
        );
    }

    /// `[[feed]]` tables, each deserialized and validated on its own and dropped once read.
    fn feeds(&mut self, value: Spanned<DeValue<'_>>, settings: &Settings) {
        let span = value.span();
        let DeValue::Array(mut feeds) = value.into_inner() else {
            self.issue(
                span,
                None,
                "`feed` must be [[feed]] tables".into(),
                Some("start each feed with a [[feed]] line"),
            );
            return;
        };
        for slot in feeds.iter_mut() {
            let value = std::mem::replace(slot, Spanned::new(0..0, DeValue::Boolean(false)));
            self.feed_table(value, settings);
        }
    }

    fn feed_table(&mut self, value: Spanned<DeValue<'_>>, settings: &Settings) {
        let header = value.span();
        // The id names the feed in messages even when the feed's other keys are broken.
        let id = value
            .get_ref()
            .as_table()
            .and_then(|t| t.get("id"))
            .and_then(|v| v.get_ref().as_str())
            .map(str::to_string);
        let value = match document::expect_table(value, || {
            (
                "a feed must be a [[feed]] table".into(),
                "start each feed with a [[feed]] line".into(),
            )
        }) {
            Ok(v) => v,
            Err(p) => return self.problems(vec![p], None),
        };
        let read = document::deserialize::<RawFeed>(value, &feed_sections);
        self.problems(read.problems, id.as_deref());
        self.dropped = read.dropped;
        if let Some(raw) = read.value
            && let Some(spec) = self.feed(raw, settings, header)
        {
            self.c.feeds.push(spec);
        }
        self.dropped.clear();
    }

    /// An absolute http(s) URL that names a directory: ends in `/`.
    fn base_url(&mut self, u: &Spanned<String>, what: &str, meaning: &str) -> Option<String> {
        match Url::parse(u.get_ref()) {
            Ok(url) if matches!(url.scheme(), "http" | "https") => {
                let s = url.to_string();
                Some(if s.ends_with('/') { s } else { format!("{s}/") })
            }
            _ => {
                let hint = format!("{meaning}, e.g. \"https://example.org/feeds/\"");
                self.issue(
                    u.span(),
                    None,
                    format!("{what} {:?} is not an absolute http(s) URL", u.get_ref()),
                    Some(&hint),
                );
                None
            }
        }
    }

    /// `[serve]`: listen address, links, token, alerts and limits of `scifeed serve`.
    fn serve(&mut self, raw: RawServe) -> ServeSettings {
        let d = ServeSettings::default();
        let listen =
            raw.listen.and_then(|l| match l.get_ref().parse() {
                Ok(addr) => Some(addr),
                Err(_) => {
                    self.issue(
                    l.span(),
                    None,
                    format!("[serve] `listen` {:?} is not an address and port", l.get_ref()),
                    Some("e.g. listen = \"127.0.0.1:8080\" (\"0.0.0.0:8080\" for every interface)"),
                );
                    None
                }
            });
        let public_url = raw.public_url.and_then(|u| {
            self.base_url(
                &u,
                "[serve] `public_url`",
                "the URL readers use to reach `scifeed serve`",
            )
        });
        let token = raw.token.and_then(|t| {
            let s = t.get_ref();
            if s.len() < 16 || !s.bytes().all(|b| b.is_ascii_graphic()) {
                self.issue(
                    t.span(),
                    None,
                    "[serve] `token` must be at least 16 printable ASCII characters without spaces"
                        .into(),
                    Some("e.g. the output of `openssl rand -hex 16`"),
                );
                None
            } else {
                Some(s.clone())
            }
        });
        let notify_url = raw.notify_url.and_then(|u| match Url::parse(u.get_ref()) {
            Ok(url) if matches!(url.scheme(), "http" | "https") && url.host().is_some() => {
                Some(url)
            }
            _ => {
                self.issue(
                    u.span(),
                    None,
                    format!(
                        "[serve] `notify_url` {:?} is not an absolute http(s) URL",
                        u.get_ref()
                    ),
                    Some(
                        "the URL alerts are POSTed to, e.g. \"https://hooks.example.org/scifeed\"",
                    ),
                );
                None
            }
        });
        let notify_after = self.positive(raw.notify_after, 3, "notify_after", None);
        let cache_mb = self.positive(raw.cache_mb, d.cache_bytes >> 20, "cache_mb", None);
        let max_connections = self.positive(
            raw.max_connections,
            d.max_connections,
            "max_connections",
            None,
        );
        ServeSettings {
            listen: listen.unwrap_or(d.listen),
            public_url,
            token,
            notify_url,
            notify_after: u32::try_from(notify_after).unwrap_or(u32::MAX),
            cache_bytes: cache_mb.saturating_mul(1 << 20),
            max_connections,
        }
    }

    fn positive(
        &mut self,
        v: Option<Spanned<i64>>,
        default: usize,
        what: &str,
        feed: Option<&str>,
    ) -> usize {
        match v {
            None => default,
            Some(n) if *n.get_ref() >= 1 => usize::try_from(*n.get_ref()).unwrap_or(usize::MAX),
            Some(n) => {
                let span = n.span();
                self.issue(
                    span,
                    feed,
                    format!("`{what}` must be at least 1, got {}", n.get_ref()),
                    None,
                );
                default
            }
        }
    }

    fn settings(&mut self, raw: RawSettings, ov: &Overrides) -> Settings {
        let dir = self.dir.clone();
        let rel = |p: Option<String>, default: &str| -> PathBuf {
            let p = PathBuf::from(p.unwrap_or_else(|| default.to_string()));
            if p.is_absolute() { p } else { dir.join(p) }
        };
        let output_dir = ov
            .output_dir
            .clone()
            .unwrap_or_else(|| rel(raw.output_dir, "feeds"));
        // A `postgres://` URL is a database, not a path relative to the config.
        let state = match (&ov.state, raw.state) {
            (Some(p), _) => StateLocation::from_path(p),
            (None, Some(s)) if matches!(StateLocation::parse(&s), StateLocation::Postgres(_)) => {
                StateLocation::parse(&s)
            }
            (None, s) => StateLocation::File(rel(s, "state/scifeed.db")),
        };
        let lease = match raw.lease_secs {
            Some(v) if *v.get_ref() == 0 => {
                self.issue(
                    v.span(),
                    None,
                    "`lease_secs` must be at least 1".into(),
                    Some("how long a runner may hold a host of a shared (PostgreSQL) state without renewing it"),
                );
                crate::store::backend::DEFAULT_LEASE
            }
            Some(v) => Duration::from_secs(*v.get_ref()),
            None => crate::store::backend::DEFAULT_LEASE,
        };
        let user_agent = match raw.user_agent {
            Some(ua) if ua.get_ref().trim().is_empty() || ua.get_ref().contains(['\n', '\r']) => {
                self.issue(
                    ua.span(),
                    None,
                    "`user_agent` must be one non-empty line".into(),
                    None,
                );
                String::new()
            }
            Some(ua) => ua.into_inner(),
            None => concat!(
                "scifeed/",
                env!("CARGO_PKG_VERSION"),
                " (+https://github.com/scifeed/scifeed)"
            )
            .to_string(),
        };
        let max_items = self.positive(raw.max_items, 50, "max_items", None);
        let mut formats = Vec::new();
        let (list_span, list) = match raw.formats {
            Some(list) => (list.span(), list.into_inner()),
            None => {
                let all = Format::ALL.iter();
                let all = all.map(|f| Spanned::new(0..0, f.extension().to_string()));
                (0..0, all.collect())
            }
        };
        let mut unknown = false;
        for f in list {
            match Format::ALL.iter().find(|x| x.extension() == f.get_ref()) {
                Some(x) if !formats.contains(x) => formats.push(*x),
                Some(_) => {}
                None => {
                    unknown = true;
                    self.issue(
                        f.span(),
                        None,
                        format!("unknown format `{}`", f.get_ref()),
                        Some("formats are \"rss\", \"atom\" and \"json\""),
                    );
                }
            }
        }
        if formats.is_empty() && !unknown {
            self.issue(
                list_span,
                None,
                "`formats` is empty: nothing would be written".into(),
                Some("formats = [\"rss\", \"atom\", \"json\"]"),
            );
        }
        let public_url = match raw.public_url {
            None => DEFAULT_PUBLIC_URL.to_string(),
            Some(u) => self
                .base_url(&u, "`public_url`", "the URL where output_dir is served")
                .unwrap_or_default(),
        };
        let d = CrawlSettings::default();
        let secs = |v: Option<Spanned<u64>>, default: Duration, what: &str, me: &mut Self| match v {
            None => default,
            Some(s) if *s.get_ref() == 0 => {
                me.issue(s.span(), None, format!("`{what}` must be at least 1"), None);
                default
            }
            Some(s) => Duration::from_secs(*s.get_ref()),
        };
        let timeout = secs(raw.timeout_secs, d.timeout, "timeout_secs", self);
        let read_timeout = secs(
            raw.read_timeout_secs,
            d.read_timeout,
            "read_timeout_secs",
            self,
        );
        let connect_timeout = secs(
            raw.connect_timeout_secs,
            d.connect_timeout,
            "connect_timeout_secs",
            self,
        );
        let max_body_bytes = match raw.max_body_bytes {
            Some(b) if *b.get_ref() < 1024 => {
                self.issue(
                    b.span(),
                    None,
                    "`max_body_bytes` must be at least 1024".into(),
                    None,
                );
                d.max_body_bytes
            }
            Some(b) => *b.get_ref(),
            None => d.max_body_bytes,
        };
        let crawl = CrawlSettings {
            concurrency: self.positive(raw.concurrency, d.concurrency, "concurrency", None),
            per_host: self.positive(raw.per_host, d.per_host, "per_host", None),
            min_interval: raw
                .min_interval_ms
                .map_or(d.min_interval, Duration::from_millis),
            timeout,
            connect_timeout,
            read_timeout,
            retries: raw.retries.unwrap_or(d.retries),
            retry_backoff: raw
                .retry_backoff_ms
                .map_or(d.retry_backoff, Duration::from_millis),
            retry_after_cap: raw
                .retry_after_cap_secs
                .map_or(d.retry_after_cap, Duration::from_secs),
            max_body_bytes,
            max_redirects: raw.max_redirects.unwrap_or(d.max_redirects),
            max_cards: self.positive(raw.max_cards, d.max_cards, "max_cards", None),
            robots: raw.robots.unwrap_or(d.robots),
            hosts: BTreeMap::new(),
        };
        let (every, max_every) = self.schedule(raw.every, raw.max_every, None, None);
        Settings {
            output_dir,
            state,
            user_agent,
            max_items,
            formats,
            public_url,
            keep_days: raw.keep_days.unwrap_or(365),
            enrich_budget: raw.enrich_budget.unwrap_or(DEFAULT_ENRICH_BUDGET),
            lease,
            every,
            max_every: max_every.unwrap_or(crate::schedule::DEFAULT_MAX_EVERY),
            heal: raw.heal.unwrap_or(true),
            crawl,
        }
    }

    /// One duration key (`every`, `max_every`): "15m", "2h", "1d", within [`SCHEDULE_RANGE`].
    fn duration(
        &mut self,
        v: Option<Spanned<String>>,
        key: &str,
        feed: Option<&str>,
    ) -> Option<Duration> {
        let v = v?;
        let hint = Some(
            "write a number and a unit: \"15m\", \"2h\", \"1d\" (s, m, h, d, w; \"1h30m\" works too)",
        );
        match crate::schedule::parse_duration(v.get_ref()) {
            Ok(d) if SCHEDULE_RANGE.contains(&d) => Some(d),
            Ok(_) => {
                self.issue(
                    v.span(),
                    feed,
                    format!(
                        "`{key}` {:?} is out of range: 1 second to 365 days",
                        v.get_ref()
                    ),
                    hint,
                );
                None
            }
            Err(e) => {
                self.issue(
                    v.span(),
                    feed,
                    format!("`{key}` is not a duration: {e}"),
                    hint,
                );
                None
            }
        }
    }

    /// `every` and `max_every` of `[settings]` or of one feed (whose unset keys fall back to
    /// `inherited`); `max_every` below `every` is an error at the key that made it so.
    fn schedule(
        &mut self,
        every: Option<Spanned<String>>,
        max_every: Option<Spanned<String>>,
        feed: Option<&str>,
        inherited: Option<(Option<Duration>, Duration)>,
    ) -> (Option<Duration>, Option<Duration>) {
        let max_span = max_every.as_ref().map(Spanned::span);
        let every_span = every.as_ref().map(Spanned::span);
        let e = self.duration(every, "every", feed);
        let m = self.duration(max_every, "max_every", feed);
        let (eff_every, eff_max) = match inherited {
            Some((ie, im)) => (e.or(ie), m.unwrap_or(im)),
            None => (e, m.unwrap_or(crate::schedule::DEFAULT_MAX_EVERY)),
        };
        if let Some(ev) = eff_every
            && eff_max < ev
            && let Some(span) = max_span.or(every_span)
        {
            self.issue(
                span,
                feed,
                format!(
                    "`max_every` ({}) is shorter than `every` ({})",
                    crate::schedule::format_duration(eff_max),
                    crate::schedule::format_duration(ev)
                ),
                Some("max_every is the longest pause between fetches; make it at least every (default 24h)"),
            );
        }
        (e, m)
    }

    /// `[hosts."name"]` tables, keyed by lower-case host name.
    fn feed(
        &mut self,
        raw: RawFeed,
        settings: &Settings,
        header: Range<usize>,
    ) -> Option<FeedSpec> {
        let before = self.c.issues.len();
        // The `[[feed]]` line is the best location when a required key is missing.
        let anchor = header;
        let id = match raw.id {
            None => {
                self.missing(
                    "id",
                    anchor.clone(),
                    None,
                    "feed has no `id`",
                    Some("add id = \"short-name\" (used as the output file name)"),
                );
                String::new()
            }
            Some(id) => {
                let s = id.get_ref().clone();
                if !valid_id(&s) {
                    self.issue(
                        id.span(),
                        Some(&s),
                        format!("id {s:?} is not a safe file name"),
                        Some("use 1-64 characters from a-z, 0-9, '-', '_' and '.', starting with a letter or digit"),
                    );
                } else if let Some(first) = self.c.ids.get(&s).cloned() {
                    let at = self.name_place(&first);
                    self.issue(
                        id.span(),
                        Some(&s),
                        format!("duplicate feed id (first used {at})"),
                        Some("every feed needs its own id"),
                    );
                } else {
                    let place = self.place(id.span().start);
                    self.c.ids.insert(s.clone(), place);
                }
                s
            }
        };
        let fid = Some(id.as_str()).filter(|s| !s.is_empty());
        let title = match raw.title {
            Some(t) if !t.get_ref().trim().is_empty() => t.get_ref().trim().to_string(),
            Some(t) => {
                self.issue(t.span(), fid, "`title` is empty".into(), None);
                String::new()
            }
            None => {
                self.missing(
                    "title",
                    anchor.clone(),
                    fid,
                    "feed has no `title`",
                    Some("add title = \"Name shown in feed readers\""),
                );
                String::new()
            }
        };
        let url = match raw.url {
            None => {
                self.missing(
                    "url",
                    anchor.clone(),
                    fid,
                    "feed has no `url`",
                    Some("add url = \"https://site/listing\" (or a file:// URL of a saved page)"),
                );
                None
            }
            Some(u) => self.source_url(&u, fid),
        };
        let base_url = raw.base_url.and_then(|b| match Url::parse(b.get_ref()) {
            Ok(u) if matches!(u.scheme(), "http" | "https") => Some(u),
            _ => {
                self.issue(
                    b.span(),
                    fid,
                    format!(
                        "`base_url` {:?} is not an absolute http(s) URL",
                        b.get_ref()
                    ),
                    Some("e.g. base_url = \"https://www.the-scientist.com/\""),
                );
                None
            }
        });
        let site_url = match (&base_url, &url) {
            (Some(b), _) => Some(b.clone()),
            (None, Some(u)) if matches!(u.scheme(), "http" | "https") => Some(u.clone()),
            (None, Some(_)) => {
                self.missing("base_url", anchor.clone(), fid, "a file:// feed needs `base_url`", Some("set base_url to the page's original http(s) address so links in the feed work"));
                None
            }
            (None, None) => None,
        };
        let max_items = self.positive(raw.max_items, settings.max_items, "max_items", fid);
        let max_pages = self.positive(raw.max_pages, 1, "max_pages", fid);
        let timezone = match raw.timezone {
            None => chrono_tz::UTC,
            Some(tz) => parse_tz(tz.get_ref()).unwrap_or_else(|e| {
                self.issue(
                    tz.span(),
                    fid,
                    e,
                    Some("an IANA zone name such as \"Europe/London\" or \"America/New_York\""),
                );
                chrono_tz::UTC
            }),
        };
        let date_format = raw.date_format.and_then(|f| {
            use chrono::format::{Item, StrftimeItems};
            if StrftimeItems::new(f.get_ref()).any(|i| matches!(i, Item::Error)) {
                self.issue(
                    f.span(),
                    fid,
                    format!(
                        "`date_format` {:?} is not a valid chrono format",
                        f.get_ref()
                    ),
                    Some("e.g. \"%B %d, %Y\" for \"November 26, 2026\""),
                );
                None
            } else {
                Some(f.into_inner())
            }
        });
        let next = raw.next.and_then(|n| self.field(Some(n), fid, "next"));
        // No selectors means auto-detection; `auto = true` says so explicitly.
        let auto = raw.auto.as_ref().map(|a| *a.get_ref());
        let rules = match (raw.select, auto) {
            (Some(sel), Some(true)) => {
                let span = raw.auto.as_ref().map_or(sel.span(), Spanned::span);
                self.issue(
                    span,
                    fid,
                    "`auto = true` and [feed.select] exclude each other".into(),
                    Some("remove [feed.select] to let scifeed detect the cards, or remove `auto` to use the selectors"),
                );
                None
            }
            (None, Some(false)) => {
                let span = raw.auto.as_ref().map_or(anchor.clone(), Spanned::span);
                self.issue(
                    span,
                    fid,
                    "`auto = false` but the feed has no [feed.select] table".into(),
                    Some("add [feed.select] with at least `card` and `title`, or set auto = true (try `scifeed discover URL`)"),
                );
                None
            }
            (None, _) => None,
            (Some(sel), _) => {
                let span = sel.span();
                self.rules(sel.into_inner(), span, fid)
            }
        };
        let (every, max_every) = self.schedule(
            raw.every,
            raw.max_every,
            fid,
            Some((settings.every, settings.max_every)),
        );
        if self.c.issues.len() > before {
            return None;
        }
        Some(FeedSpec {
            id,
            title,
            description: raw.description,
            url: url?,
            base_url,
            site_url: site_url?,
            max_items,
            rules,
            date_format,
            timezone,
            next,
            max_pages: u32::try_from(max_pages).unwrap_or(u32::MAX),
            min_interval: raw.min_interval_ms.map(Duration::from_millis),
            enrich: raw.enrich.unwrap_or(false),
            every,
            max_every,
            heal: raw.heal.unwrap_or(settings.heal),
        })
    }

    fn source_url(&mut self, u: &Spanned<String>, fid: Option<&str>) -> Option<Url> {
        let s = u.get_ref().trim();
        let hint =
            Some("use an http(s):// URL, a file:// URL, or a path relative to this config file");
        match Url::parse(s) {
            Ok(url) if matches!(url.scheme(), "http" | "https") && url.host().is_some() => {
                Some(url)
            }
            Ok(url) if url.scheme() == "file" => Some(url),
            Ok(url) if matches!(url.scheme(), "http" | "https") => {
                self.issue(u.span(), fid, format!("`url` {s:?} has no host"), hint);
                None
            }
            Ok(url) => {
                self.issue(
                    u.span(),
                    fid,
                    format!("`url` scheme `{}` is not supported", url.scheme()),
                    hint,
                );
                None
            }
            Err(url::ParseError::RelativeUrlWithoutBase) if !s.is_empty() => {
                let p = self.dir.join(s);
                let abs = std::path::absolute(&p).unwrap_or(p);
                match Url::from_file_path(&abs) {
                    Ok(url) => Some(url),
                    Err(()) => {
                        self.issue(
                            u.span(),
                            fid,
                            format!("`url` {s:?} is not a usable path"),
                            hint,
                        );
                        None
                    }
                }
            }
            Err(e) => {
                self.issue(
                    u.span(),
                    fid,
                    format!("`url` {s:?} is not a valid URL ({e})"),
                    hint,
                );
                None
            }
        }
    }

    fn field(
        &mut self,
        s: Option<Spanned<String>>,
        fid: Option<&str>,
        key: &str,
    ) -> Option<FieldSelector> {
        let s = s?;
        if let Some(f) = self.c.selectors.get(s.get_ref()) {
            return Some(f.clone());
        }
        match FieldSelector::parse(s.get_ref()) {
            Ok(f) => {
                self.c.selectors.insert(s.get_ref().clone(), f.clone());
                Some(f)
            }
            Err(e) => {
                self.issue(
                    s.span(),
                    fid,
                    format!("invalid selector for `{key}` {:?}: {e}", s.get_ref()),
                    Some("write a CSS selector, optionally followed by @attribute (e.g. \"time@datetime\"); check brackets and quotes"),
                );
                None
            }
        }
    }

    fn rules(
        &mut self,
        raw: RawSelect,
        span: Range<usize>,
        fid: Option<&str>,
    ) -> Option<CardRules> {
        let card = match raw.card {
            None => {
                self.missing("select.card", span.clone(), fid, "[feed.select] has no `card` selector", Some("card selects one element per article, e.g. card = \"div.articleList > div.article\""));
                None
            }
            Some(c) if self.c.cards.contains_key(c.get_ref()) => self
                .c
                .cards
                .get(c.get_ref())
                .map(|sel| (sel.clone(), c.get_ref().clone())),
            Some(c) => match compile_css(c.get_ref()) {
                Ok(sel) => {
                    self.c.cards.insert(c.get_ref().clone(), sel.clone());
                    Some((sel, c.get_ref().clone()))
                }
                Err(e) => {
                    self.issue(
                        c.span(),
                        fid,
                        format!("invalid selector for `card` {:?}: {e}", c.get_ref()),
                        Some("`card` is plain CSS (no @attribute); check brackets and quotes"),
                    );
                    None
                }
            },
        };
        let title = match raw.title {
            None => {
                self.missing(
                    "select.title",
                    span,
                    fid,
                    "[feed.select] has no `title` selector",
                    Some("title is relative to the card, e.g. title = \"h3 > a\""),
                );
                None
            }
            t => self.field(t, fid, "title"),
        };
        let link = self.field(raw.link, fid, "link");
        let author = self.field(raw.author, fid, "author");
        let read_time = self.field(raw.read_time, fid, "read_time");
        let teaser = self.field(raw.teaser, fid, "teaser");
        let date = self.field(raw.date, fid, "date");
        let image = self.field(raw.image, fid, "image");
        let category = self.field(raw.category, fid, "category");
        let (card, card_source) = card?;
        Some(CardRules {
            card,
            card_source,
            title: title?,
            link,
            author,
            read_time,
            teaser,
            date,
            image,
            category,
        })
    }
}

/// A file's per-entry tables, split off before the rest is deserialized.
struct Entries<'i> {
    feed: Option<Spanned<DeValue<'i>>>,
    hosts: Option<Spanned<DeValue<'i>>>,
}

/// Feed ids become file names: a safe charset keeps `../` and friends out.
pub fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id.as_bytes()[0].is_ascii_alphanumeric()
        && id.bytes().all(|b| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'-' | b'_' | b'.')
        })
        && !id.contains("..")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_str(s: &str) -> Result<Config, ConfigError> {
        parse(s, Path::new("conf/test.toml"), &Overrides::default())
    }

    fn issues(s: &str) -> Vec<ConfigIssue> {
        match parse_str(s) {
            Err(ConfigError::Invalid(v)) => v,
            Err(e) => panic!("unexpected error {e}"),
            Ok(_) => panic!("config should be invalid:\n{s}"),
        }
    }

    const GOOD: &str = r#"
[settings]
max_items = 20

[[feed]]
id = "ts"
title = "The Scientist"
url = "https://www.the-scientist.com/"
[feed.select]
card = "div.article"
title = "h3 > a"
date = "time@datetime"
"#;

    #[test]
    fn good_config_resolves_paths_and_defaults() {
        let c = parse_str(GOOD).expect("valid");
        assert_eq!(c.settings.max_items, 20);
        assert_eq!(c.settings.output_dir, PathBuf::from("conf/feeds"));
        assert_eq!(
            c.settings.state,
            StateLocation::File(PathBuf::from("conf/state/scifeed.db"))
        );
        assert_eq!(c.settings.formats, Format::ALL.to_vec());
        assert_eq!(c.feeds.len(), 1);
        let f = &c.feeds[0];
        assert_eq!(f.max_items, 20);
        assert_eq!(f.site_url.as_str(), "https://www.the-scientist.com/");
        let rules = f.rules.as_ref().expect("rules");
        assert_eq!(rules.date.as_ref().and_then(|d| d.attr()), Some("datetime"));
    }

    #[test]
    fn overrides_win() {
        let ov = Overrides {
            output_dir: Some("/tmp/out".into()),
            state: Some("/tmp/s.db".into()),
        };
        let c = parse(GOOD, Path::new("x.toml"), &ov).expect("valid");
        assert_eq!(c.settings.output_dir, PathBuf::from("/tmp/out"));
        assert_eq!(
            c.settings.state,
            StateLocation::File(PathBuf::from("/tmp/s.db"))
        );
    }

    #[test]
    fn all_unknown_keys_reported_at_once_with_locations() {
        let src = "[settings]\nmax_item = 3\n\n[[feed]]\nid = \"a\"\ntitel = \"x\"\nurl = \"https://e.org/\"\n[feed.select]\ncard = \"li\"\ntitle = \"a\"\nauthr = \".by\"\n";
        let v = issues(src);
        let got: Vec<(usize, usize, Option<&str>)> = v
            .iter()
            .map(|i| (i.line, i.column, i.feed.as_deref()))
            .collect();
        // The misspelt `title` also leaves the feed without one: reported in the same pass.
        assert_eq!(
            got,
            vec![
                (2, 1, None),
                (4, 1, Some("a")),
                (6, 1, Some("a")),
                (11, 1, Some("a"))
            ]
        );
        assert!(v[1].message.contains("feed has no `title`"), "{v:?}");
        assert!(v[0].message.contains("`max_item`"));
        assert!(
            v[0].hint
                .as_deref()
                .unwrap_or("")
                .contains("did you mean `max_items`")
        );
        assert!(v[3].hint.as_deref().unwrap_or("").contains("`author`"));
    }

    #[test]
    fn semantic_errors_collected_per_feed() {
        let src = r#"
[[feed]]
id = "a"
title = "A"
url = "ftp://x.org/"
[feed.select]
card = "div["
title = "h3"

[[feed]]
id = "a"
title = "B"
url = "https://b.org/"
[feed.select]
card = "li"
title = "h3@"

[[feed]]
id = "../etc"
title = "C"
url = "https://c.org/"
timezone = "Mars/Olympus"
[feed.select]
title = "h2"
"#;
        let v = issues(src);
        let text: Vec<String> = v.iter().map(ToString::to_string).collect();
        let joined = text.join("\n");
        assert!(
            joined.contains("conf/test.toml:5:7: feed \"a\": `url` scheme `ftp`"),
            "{joined}"
        );
        assert!(
            joined.contains("conf/test.toml:7:8: feed \"a\": invalid selector for `card` \"div[\""),
            "{joined}"
        );
        assert!(
            joined.contains(
                "conf/test.toml:11:6: feed \"a\": duplicate feed id (first used on line 3)"
            ),
            "{joined}"
        );
        assert!(
            joined.contains("invalid selector for `title` \"h3@\""),
            "{joined}"
        );
        assert!(
            joined.contains("id \"../etc\" is not a safe file name"),
            "{joined}"
        );
        assert!(joined.contains("Mars/Olympus"), "{joined}");
        assert!(
            joined.contains("[feed.select] has no `card` selector"),
            "{joined}"
        );
        assert_eq!(v.len(), 7, "{joined}");
    }

    #[test]
    fn syntax_and_type_errors_are_located() {
        let v = issues("[settings]\nmax_items = \"many\"\n");
        assert_eq!((v[0].line, v[0].column), (2, 13));
        let v = issues("[[feed]\nid = 1\n");
        assert_eq!(v[0].line, 1);
    }

    #[test]
    fn file_feeds_need_base_url_and_relative_paths_resolve() {
        let src = "[[feed]]\nid = \"d\"\ntitle = \"D\"\nurl = \"demo/page.html\"\n[feed.select]\ncard = \"li\"\ntitle = \"a\"\n";
        let v = issues(src);
        assert!(v[0].message.contains("needs `base_url`"));
        let ok = src.replace("url = ", "base_url = \"https://demo.example.org/\"\nurl = ");
        let c = parse_str(&ok).expect("valid");
        let url = &c.feeds[0].url;
        assert_eq!(url.scheme(), "file");
        assert!(url.path().ends_with("/conf/demo/page.html"), "{url}");
    }

    #[test]
    fn hosts_tables_are_validated_and_lower_cased() {
        let good = format!(
            "[hosts.\"WWW.Example.org\"]\nper_host = 2\nmin_interval_ms = 250\n[hosts.\"127.0.0.2\"]\nmin_interval_ms = 0\n{GOOD}"
        );
        let c = parse_str(&good).expect("valid");
        let h = &c.settings.crawl.hosts;
        assert_eq!(
            h.get("www.example.org"),
            Some(&HostOverride {
                per_host: Some(2),
                min_interval: Some(Duration::from_millis(250)),
            })
        );
        assert_eq!(
            h.get("127.0.0.2").and_then(|o| o.min_interval),
            Some(Duration::ZERO)
        );
        let bad = format!(
            "[hosts.\"https://a.org/x\"]\nper_host = 1\n[hosts.\"b.org:8080\"]\nper_host = 1\n[hosts.\"c.org\"]\nper_host = 0\nmin_intervall_ms = 5\n{GOOD}"
        );
        let v = issues(&bad);
        let joined: Vec<String> = v.iter().map(ToString::to_string).collect();
        let joined = joined.join("\n");
        assert!(
            joined.contains("unknown key `min_intervall_ms` in [hosts.\"c.org\"]"),
            "{joined}"
        );
        assert!(
            joined.contains("did you mean `min_interval_ms`"),
            "{joined}"
        );
        let bad = bad.replace("min_intervall_ms = 5\n", "");
        let v = issues(&bad);
        let joined: Vec<String> = v.iter().map(ToString::to_string).collect();
        let joined = joined.join("\n");
        assert!(
            joined
                .contains("conf/test.toml:1:8: [hosts] key \"https://a.org/x\" is not a host name"),
            "{joined}"
        );
        assert!(
            joined.contains("\"b.org:8080\" is not a host name"),
            "{joined}"
        );
        assert!(
            joined.contains("[hosts.\"c.org\"] per_host` must be at least 1"),
            "{joined}"
        );
        assert_eq!(v.len(), 3, "{joined}");
    }

    #[test]
    fn auto_feeds_and_enrichment() {
        let src = "[settings]\nenrich_budget = 3\n\n[[feed]]\nid = \"a\"\ntitle = \"A\"\nurl = \"https://a.org/\"\nenrich = true\n\n[[feed]]\nid = \"b\"\ntitle = \"B\"\nurl = \"https://b.org/\"\nauto = true\n";
        let c = parse_str(src).expect("valid");
        assert_eq!(c.settings.enrich_budget, 3);
        assert!(
            c.feeds.iter().all(|f| f.rules.is_none()),
            "no selectors = auto"
        );
        assert!(c.feeds[0].enrich);
        assert!(!c.feeds[1].enrich);
        assert_eq!(
            parse_str(GOOD).expect("valid").settings.enrich_budget,
            DEFAULT_ENRICH_BUDGET
        );

        let both = GOOD.replace("[feed.select]\n", "auto = true\n[feed.select]\n");
        let v = issues(&both);
        assert!(v[0].message.contains("exclude each other"), "{v:?}");
        assert_eq!(v[0].line, 9);

        let none = "[[feed]]\nid = \"n\"\ntitle = \"N\"\nurl = \"https://n.org/\"\nauto = false\n";
        let v = issues(none);
        assert!(v[0].message.contains("`auto = false` but"), "{v:?}");
    }

    #[test]
    fn heal_is_on_by_default_and_a_feed_beats_the_settings() {
        let feed = |id: &str, extra: &str| {
            format!(
                "[[feed]]\nid = \"{id}\"\ntitle = \"T\"\nurl = \"https://{id}.org/\"\n{extra}\n"
            )
        };
        let on = parse_str(&feed("a", "")).expect("valid");
        assert!(on.settings.heal && on.feeds[0].heal);
        let src = format!(
            "[settings]\nheal = false\n\n{}{}",
            feed("a", ""),
            feed("b", "heal = true")
        );
        let c = parse_str(&src).expect("valid");
        assert!(!c.feeds[0].heal, "from [settings]");
        assert!(c.feeds[1].heal, "the feed's own key wins");
    }

    /// The example config is valid and documents every key of every table, in that table,
    /// with a comment; the keys come from the raw structs, so a new field needs its line.
    #[test]
    fn example_config_documents_every_key() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/site.example.toml");
        let text = std::fs::read_to_string(&path).expect("example config");
        let c = parse(&text, &path, &Overrides::default()).expect("example parses");
        assert!(!c.settings.crawl.hosts.is_empty(), "example shows [hosts]");
        // Section header (as it starts) -> the lines under it; "" is the top level.
        let mut sections: Vec<(String, Vec<&str>)> = vec![(String::new(), Vec::new())];
        for line in text.lines() {
            if line.starts_with('[') {
                sections.push((line.to_string(), Vec::new()));
            } else if let Some(last) = sections.last_mut() {
                last.1.push(line);
            }
        }
        let top_keys: Vec<&str> = fields::<RawMain>()
            .iter()
            .copied()
            .filter(|k| !k.eq(&"settings") && !k.eq(&"serve"))
            .collect();
        let tables: [(&str, &[&str]); 6] = [
            ("", &top_keys),
            ("[settings]", fields::<RawSettings>()),
            ("[serve]", fields::<RawServe>()),
            ("[hosts.", fields::<RawHost>()),
            ("[[feed]]", fields::<RawFeed>()),
            ("[feed.select]", fields::<RawSelect>()),
        ];
        for (header, keys) in tables {
            let lines: Vec<&str> = sections
                .iter()
                .filter(|(h, _)| {
                    if header.is_empty() {
                        h.is_empty()
                    } else {
                        h.starts_with(header)
                    }
                })
                .flat_map(|(_, l)| l.iter().copied())
                .collect();
            assert!(!lines.is_empty() || header.is_empty(), "no {header} table");
            for key in keys.iter().filter(|k| !k.eq(&&"select")) {
                let documented = lines.iter().any(|l| {
                    let l = l.trim_start_matches(['#', ' ']);
                    l.starts_with(&format!("{key} =")) && l.contains(" # ")
                });
                assert!(
                    documented,
                    "`{key}` is not documented under {header:?} in site.example.toml"
                );
            }
        }
    }

    #[test]
    fn serve_table_is_validated() {
        let c = parse_str(GOOD).expect("valid");
        assert_eq!(c.serve, ServeSettings::default());
        let good = format!(
            "[serve]\nlisten = \"0.0.0.0:9000\"\ntoken = \"0123456789abcdef0123\"\nnotify_url = \"http://127.0.0.1:9/hook\"\nnotify_after = 2\npublic_url = \"https://feeds.example.org/x\"\ncache_mb = 8\nmax_connections = 100\n{GOOD}"
        );
        let s = parse_str(&good).expect("valid").serve;
        assert_eq!(s.listen.to_string(), "0.0.0.0:9000");
        assert_eq!(s.token.as_deref(), Some("0123456789abcdef0123"));
        assert_eq!(
            s.public_url.as_deref(),
            Some("https://feeds.example.org/x/")
        );
        assert_eq!(
            s.notify_url.map(String::from).as_deref(),
            Some("http://127.0.0.1:9/hook")
        );
        assert_eq!(
            (s.notify_after, s.cache_bytes, s.max_connections),
            (2, 8 << 20, 100)
        );
        let bad = format!(
            "[serve]\nlisten = \"localhost\"\ntoken = \"short\"\nnotify_url = \"ftp://x/\"\nnotify_after = 0\nlisen = 1\n{GOOD}"
        );
        let text: Vec<String> = issues(&bad).iter().map(ToString::to_string).collect();
        assert!(
            text.iter()
                .any(|t| t.contains("unknown key `lisen` in [serve]")
                    && t.contains("did you mean `listen`")),
            "{text:?}"
        );
        let bad = bad.replace("lisen = 1\n", "");
        let text: Vec<String> = issues(&bad).iter().map(ToString::to_string).collect();
        assert_eq!(text.len(), 4, "{text:?}");
        assert!(
            text[0].contains(":2:10: [serve] `listen` \"localhost\" is not an address"),
            "{text:?}"
        );
        assert!(text[1].contains("`token` must be at least 16"), "{text:?}");
        assert!(text[2].contains("`notify_url` \"ftp://x/\""), "{text:?}");
        assert!(
            text[3].contains("`notify_after` must be at least 1"),
            "{text:?}"
        );
    }

    #[test]
    fn includes_are_read_in_order_relative_to_their_file() {
        let tmp = tempfile::tempdir().expect("tmp");
        let dir = tmp.path();
        let feed = |id: &str, url: &str| {
            format!(
                "[[feed]]\nid = \"{id}\"\ntitle = \"{id}\"\nurl = \"{url}\"\nbase_url = \"https://e.org/\"\n"
            )
        };
        let write = |rel: &str, text: &str| {
            let p = dir.join(rel);
            std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
            std::fs::write(p, text).expect("write");
        };
        write(
            "conf/main.toml",
            &format!(
                "include = [\"sites/*.toml\", \"sites/b.toml\", \"*.toml\"]\n[settings]\nmax_items = 7\n{}",
                feed("main", "https://e.org/")
            ),
        );
        write("conf/sites/b.toml", &feed("b", "page.html"));
        write(
            "conf/sites/a.toml",
            &format!(
                "[hosts.\"e.org\"]\nper_host = 3\n{}",
                feed("a", "https://e.org/a")
            ),
        );
        write("conf/other.toml", &feed("other", "https://e.org/o"));
        let c = load(&dir.join("conf/main.toml"), &Overrides::default()).expect("valid");
        let ids: Vec<&str> = c.feeds.iter().map(|f| f.id.as_str()).collect();
        // Pattern order, names sorted within a pattern, each file once, never the main file.
        assert_eq!(ids, ["main", "a", "b", "other"]);
        let names: Vec<String> = c
            .included
            .iter()
            .map(|p| p.strip_prefix(dir).expect("in dir").display().to_string())
            .collect();
        assert_eq!(
            names,
            ["conf/sites/a.toml", "conf/sites/b.toml", "conf/other.toml"]
        );
        assert_eq!(c.include, ["sites/*.toml", "sites/b.toml", "*.toml"]);
        // Included feeds share [settings]; a relative url is relative to its own file.
        assert!(c.feeds.iter().all(|f| f.max_items == 7));
        assert!(
            c.feeds[2].url.path().ends_with("/conf/sites/page.html"),
            "{}",
            c.feeds[2].url
        );
        assert_eq!(
            c.settings.crawl.hosts.get("e.org").and_then(|h| h.per_host),
            Some(3)
        );
        // An edit given as an overlay is checked as if it were on disk.
        let overlay = Overlay::with(&dir.join("conf/sites/c.toml"), feed("a", "https://e.org/c"));
        let v = match load_with(&dir.join("conf/main.toml"), &Overrides::default(), &overlay) {
            Err(ConfigError::Invalid(v)) => v,
            other => panic!("duplicate id expected, got {other:?}"),
        };
        assert_eq!(v.len(), 1, "{v:?}");
        assert!(v[0].file.ends_with("conf/sites/c.toml"), "{v:?}");
        assert!(
            v[0].message.contains("duplicate feed id (first used in ")
                && v[0].message.contains("conf/sites/a.toml:4:6)"),
            "{v:?}"
        );
    }

    #[test]
    fn issues_of_every_table_are_sorted_by_line() {
        let src = "[[feed]]\nid = \"b\"\ntitle = 3\nurl = \"https://b.org/\"\n\n[settings]\nmax_items = 0\nretries = -1\nrobots = \"yes\"\n\n[[feed]]\nid = \"a\"\nurl = \"nope://x\"\ntitle = \"A\"\n";
        let v = issues(src);
        let lines: Vec<usize> = v.iter().map(|i| i.line).collect();
        // Not "feed has no `title`" for the first feed: its title is there, with the wrong type.
        assert_eq!(lines, [3, 7, 8, 9, 13], "{v:#?}");
        assert!(v[0].message.contains("expected a string"), "{v:?}");
        assert!(
            v[2].message.contains("expected a non-negative integer"),
            "{v:?}"
        );
        assert!(v[3].message.contains("expected a boolean"), "{v:?}");
        // Only the wrong type is reported for the first feed's title, not also its absence.
        assert_eq!(
            v.iter().filter(|i| i.feed.as_deref() == Some("b")).count(),
            1
        );
    }

    /// TOML lets a feed's `[feed.select]` come after other tables; it still belongs to the
    /// last `[[feed]]`, and its mistakes are located in the file.
    #[test]
    fn a_feed_table_after_other_tables_is_the_last_feeds() {
        let src = "[[feed]]\nid = \"a\"\ntitle = \"A\"\nurl = \"https://a.org/\"\n[settings]\nmax_items = 3\n[feed.select]\ncard = \"li\"\ntitle = \"h3\"\n";
        let c = parse_str(src).expect("valid");
        assert_eq!(c.settings.max_items, 3);
        let rules = c.feeds[0].rules.as_ref().expect("the late [feed.select]");
        assert_eq!(rules.card_source, "li");
        let v = issues(&src.replace("\"h3\"", "\"h3 >>\""));
        assert_eq!((v.len(), v[0].line, v[0].column), (1, 9, 9), "{v:?}");
        assert_eq!(v[0].feed.as_deref(), Some("a"));
    }

    #[test]
    fn schedule_keys_inherit_and_are_checked() {
        let src = "[settings]\nevery = \"30m\"\n\n[[feed]]\nid = \"a\"\ntitle = \"A\"\nurl = \"https://a.org/\"\n\n[[feed]]\nid = \"b\"\ntitle = \"B\"\nurl = \"https://b.org/\"\nevery = \"2h\"\nmax_every = \"1w\"\n";
        let c = parse_str(src).expect("valid");
        assert_eq!(c.settings.every, Some(Duration::from_secs(1800)));
        assert_eq!(c.settings.max_every, crate::schedule::DEFAULT_MAX_EVERY);
        assert_eq!((c.feeds[0].every, c.feeds[0].max_every), (None, None));
        assert_eq!(c.feeds[1].every, Some(Duration::from_secs(7200)));
        assert_eq!(c.feeds[1].max_every, Some(Duration::from_secs(7 * 86_400)));
        assert_eq!(parse_str(GOOD).expect("valid").settings.every, None);

        let bad = "[settings]\nevery = \"0s\"\nmax_every = \"400d\"\n\n[[feed]]\nid = \"a\"\ntitle = \"A\"\nurl = \"https://a.org/\"\nevery = \"2d\"\n\n[[feed]]\nid = \"b\"\ntitle = \"B\"\nurl = \"https://b.org/\"\nmax_every = \"1h\"\nevery = 5\n";
        let v = issues(bad);
        assert!(
            v.iter().any(
                |i| i.line == 16 && i.message == "invalid type: integer `5`, expected a string"
            ),
            "{v:?}"
        );
        let bad = bad.replace("every = 5\n", "every = \"2h\"\n");
        let v = issues(&bad);
        let text: Vec<String> = v.iter().map(ToString::to_string).collect();
        let joined = text.join("\n");
        assert!(
            joined.contains("conf/test.toml:2:9: `every` \"0s\" is out of range"),
            "{joined}"
        );
        assert!(
            joined.contains("conf/test.toml:3:13: `max_every` \"400d\" is out of range"),
            "{joined}"
        );
        // Feed a inherits max_every 24h (the default: the settings value was refused).
        assert!(
            joined.contains(
                "conf/test.toml:9:9: feed \"a\": `max_every` (1d) is shorter than `every` (2d)"
            ),
            "{joined}"
        );
        assert!(
            joined.contains(
                "conf/test.toml:15:13: feed \"b\": `max_every` (1h) is shorter than `every` (2h)"
            ),
            "{joined}"
        );
        assert_eq!(v.len(), 4, "{joined}");
    }

    #[test]
    fn id_charset() {
        for good in ["the-scientist", "a", "phys.org", "x_1"] {
            assert!(valid_id(good), "{good}");
        }
        for bad in [
            "",
            "../x",
            "a/b",
            "A",
            "-x",
            ".hidden",
            "a..b",
            "x y",
            &"a".repeat(65),
        ] {
            assert!(!valid_id(bad), "{bad}");
        }
    }
}
