//! Pinned listings and self-healing: which listing a feed reads, and whether a listing
//! re-detected on a page where the feed's selectors broke may take their place. Pure: what
//! the store remembers and which items a feed knows come in as arguments.
//!
//! - **Pins.** An auto feed (no `[feed.select]`) remembers the listing it read at its first
//!   success (the detected selectors, or "the page's structured data" with the selectors
//!   that filled it) and reads that listing on later runs, so it never flips between two
//!   candidates that score alike. It re-detects only when the pin stops matching.
//! - **Healing.** When a feed's card selector (configured or pinned) matches nothing, or
//!   none of its cards has a title and a link, the extraction stage re-detects the page's
//!   listings. [`accept`] takes the best-ranked one that holds at least [`MIN_KNOWN`] of the
//!   items the feed already published, or all of them when it knows fewer (and never one on
//!   a feed that knows none). The healed selectors are remembered and used on every run,
//!   and the feed is reported `healed`, until the feed's config changes ([`config_key`]).
//!
//! What a feed remembers is tied to a fingerprint of its URL and selectors: edit either
//! (for instance, paste the healed `[feed.select]`) and the memory is dropped.

use std::collections::HashSet;
use std::fmt::Write as _;

use chrono::{DateTime, Utc};

use crate::extract::detect::SelectorSet;
use crate::extract::page::CardSource;
use crate::extract::select::CardRules;
use crate::extract::stage::{ExtractError, Listing, ListingPage};
use crate::feed::FeedSpec;
use crate::store::StoreError;

/// A re-detected listing must hold this many of the feed's known items (or all of them,
/// when the feed knows fewer).
pub const MIN_KNOWN: usize = 3;

/// A listing a feed remembers between runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RememberedListing {
    /// Card selectors (detected or healed).
    Selectors(SelectorSet),
    /// The page's structured-data listing, filled from the cards these selectors find.
    Structured { fill: Option<SelectorSet> },
}

/// Why a feed remembers a listing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemoryKind {
    /// An auto feed's first listing.
    Pinned,
    /// Re-detected after the feed's selectors broke.
    Healed,
}

impl MemoryKind {
    /// Stable name used in the store.
    pub fn as_str(self) -> &'static str {
        match self {
            MemoryKind::Pinned => "pinned",
            MemoryKind::Healed => "healed",
        }
    }

    /// Inverse of [`MemoryKind::as_str`].
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "pinned" => Some(MemoryKind::Pinned),
            "healed" => Some(MemoryKind::Healed),
            _ => None,
        }
    }
}

/// What the store remembers about a feed's listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListingMemory {
    /// [`config_key`] of the feed when it was remembered.
    pub config_key: String,
    pub kind: MemoryKind,
    pub listing: RememberedListing,
    /// When it was pinned or healed.
    pub since: DateTime<Utc>,
    /// Healed: the card selector that stopped working.
    pub broken: Option<String>,
}

/// A feed that reads healed selectors (typed, for the run table, `store check` and serve).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Healed {
    /// The card selector that stopped working.
    pub broken: String,
    /// The selectors in use since.
    pub selectors: SelectorSet,
    pub since: DateTime<Utc>,
}

impl RememberedListing {
    /// JSON text for the store.
    pub fn to_json(&self) -> String {
        let v = match self {
            RememberedListing::Selectors(s) => serde_json::json!({ "selectors": s }),
            RememberedListing::Structured { fill } => {
                serde_json::json!({ "structured": { "fill": fill } })
            }
        };
        v.to_string()
    }

    /// Inverse of [`RememberedListing::to_json`]; `None` for text it did not write.
    pub fn from_json(text: &str) -> Option<Self> {
        let v: serde_json::Value = serde_json::from_str(text).ok()?;
        if let Some(s) = v.get("selectors") {
            return selector_set(s).map(RememberedListing::Selectors);
        }
        let fill = v.get("structured")?.get("fill")?;
        Some(RememberedListing::Structured {
            fill: if fill.is_null() {
                None
            } else {
                Some(selector_set(fill)?)
            },
        })
    }

    /// The card selector, for messages ("structured data" for a structured listing).
    pub fn card(&self) -> &str {
        match self {
            RememberedListing::Selectors(s) => &s.card,
            RememberedListing::Structured { .. } => "structured data",
        }
    }

    /// The listing a page extracted from `source` would be remembered as.
    pub fn of(source: &CardSource) -> Option<Self> {
        match source {
            CardSource::Selectors => None,
            CardSource::Detected(c) => Some(RememberedListing::Selectors(c.selectors.clone())),
            CardSource::Structured { detected } => Some(RememberedListing::Structured {
                fill: detected.as_ref().map(|c| c.selectors.clone()),
            }),
        }
    }
}

fn selector_set(v: &serde_json::Value) -> Option<SelectorSet> {
    let s = |k: &str| v.get(k).and_then(|x| x.as_str()).map(str::to_string);
    Some(SelectorSet {
        card: s("card")?,
        title: s("title")?,
        link: s("link"),
        author: s("author"),
        read_time: s("read_time"),
        teaser: s("teaser"),
        date: s("date"),
        image: s("image"),
        category: s("category"),
    })
}

/// Fingerprint of what a feed's config says about its listing: its URL, base URL and
/// selectors (or "auto").
pub fn config_key(feed: &FeedSpec) -> String {
    let mut key = format!(
        "v1|{}|{}|",
        feed.url,
        feed.base_url.as_ref().map_or("", url::Url::as_str)
    );
    match &feed.rules {
        None => key.push_str("auto"),
        Some(r) => {
            key.push_str(&r.card_source);
            let fields = [
                Some(&r.title),
                r.link.as_ref(),
                r.author.as_ref(),
                r.read_time.as_ref(),
                r.teaser.as_ref(),
                r.date.as_ref(),
                r.image.as_ref(),
                r.category.as_ref(),
            ];
            for f in fields {
                key.push('|');
                key.push_str(f.map_or("", |f| f.source()));
            }
        }
    }
    format!("{:016x}", xxhash_rust::xxh3::xxh3_64(key.as_bytes()))
}

/// Compiled remembered selectors.
#[derive(Debug, Clone)]
enum Compiled {
    Selectors(CardRules),
    Structured(Option<CardRules>),
}

/// Which listing a feed reads on this run: its remembered listing when it has one that
/// belongs to its current config, else its own selectors (or auto-detection).
#[derive(Debug, Clone)]
pub struct Plan {
    memory: Option<(ListingMemory, Compiled)>,
    /// The store holds a memory from an earlier config, to be forgotten on success.
    stale: bool,
}

impl Plan {
    /// The plan for `feed` given what the store remembers (a memory of another config, or
    /// one whose selectors no longer compile, is ignored).
    pub fn new(feed: &FeedSpec, memory: Option<ListingMemory>) -> Plan {
        let stale = memory.is_some();
        let usable = memory
            .filter(|m| m.config_key == config_key(feed))
            .and_then(|m| {
                let compiled = match &m.listing {
                    RememberedListing::Selectors(s) => Compiled::Selectors(s.compile()?),
                    RememberedListing::Structured { fill: None } => Compiled::Structured(None),
                    RememberedListing::Structured { fill: Some(s) } => {
                        Compiled::Structured(Some(s.compile()?))
                    }
                };
                Some((m, compiled))
            });
        Plan {
            stale: stale && usable.is_none(),
            memory: usable,
        }
    }

    /// The listing to extract.
    pub fn listing<'a>(&'a self, feed: &'a FeedSpec) -> Listing<'a> {
        match &self.memory {
            Some((_, Compiled::Selectors(r))) => Listing::Selectors(r),
            Some((_, Compiled::Structured(fill))) => Listing::Structured {
                fill: fill.as_ref(),
            },
            None => feed
                .rules
                .as_ref()
                .map_or(Listing::Auto, Listing::Selectors),
        }
    }

    /// Whether the store holds a memory from an earlier config of the feed (forgotten at
    /// the next success). The page must then be read again even if its bytes did not
    /// change: the feed's own selectors have not read it yet.
    pub fn stale(&self) -> bool {
        self.stale
    }

    /// The remembered listing in use, if any.
    pub fn memory(&self) -> Option<&ListingMemory> {
        self.memory.as_ref().map(|(m, _)| m)
    }

    /// Whether the feed reads healed selectors.
    pub fn healed(&self) -> Option<Healed> {
        let m = self.memory()?;
        match (&m.kind, &m.listing) {
            (MemoryKind::Healed, RememberedListing::Selectors(s)) => Some(Healed {
                broken: m.broken.clone().unwrap_or_default(),
                selectors: s.clone(),
                since: m.since,
            }),
            _ => None,
        }
    }
}

/// What the store should remember after this run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Remember {
    /// Leave it as it is.
    Keep,
    /// Pin or heal: remember this listing.
    Save(Box<ListingMemory>),
    /// Drop a memory of an earlier config.
    Forget,
}

/// A page's cards after pinning and healing.
#[derive(Debug)]
pub struct Settled {
    pub page: ListingPage,
    pub remember: Remember,
    /// The feed reads healed selectors (healed now or on an earlier run).
    pub healed: Option<Healed>,
    /// The run healed the feed: how many of its known items the new listing holds.
    pub held: Option<usize>,
}

impl Settled {
    /// The plan for the feed's later pages: what it remembers from now on.
    pub fn plan(&self, feed: &FeedSpec, plan: Plan) -> Plan {
        match &self.remember {
            Remember::Keep => plan,
            Remember::Save(m) => Plan::new(feed, Some((**m).clone())),
            Remember::Forget => Plan::new(feed, None),
        }
    }
}

/// A re-detected listing was found but not taken.
#[derive(Debug, thiserror::Error)]
#[error(
    "{error}; re-detection found {offers} listing(s) on the page, but {}, so none was taken (self-healing)\n    hint: if the site was redesigned, `scifeed discover URL` shows its listings; update [feed.select]",
    if *known == 0 { "the feed has no published items to recognise one by".to_string() } else { format!("the best holds {held} of the {needed} known item(s) it needs (the feed has published {known})") }
)]
pub struct Refused {
    pub error: ExtractError,
    pub offers: usize,
    /// Known items the best re-detected listing holds.
    pub held: usize,
    pub needed: usize,
    /// Items the feed has published.
    pub known: usize,
}

/// Why [`settle`] found no cards.
#[derive(Debug, thiserror::Error)]
pub enum SettleError {
    #[error(transparent)]
    Extract(ExtractError),
    /// An auto feed's pinned listing is gone and detection finds no other on the page.
    #[error(
        "the listing this auto feed pinned is gone ({0}), and auto-detection found no article listing on the page\n    hint: run `scifeed discover URL` to see what the page holds"
    )]
    PinLost(ExtractError),
    #[error(transparent)]
    Refused(Box<Refused>),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What [`accept`] decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Take the listing at `index`; it holds `held` known items.
    Take { index: usize, held: usize },
    /// None qualifies; the best holds `held` of the `needed` known items.
    Refuse { held: usize, needed: usize },
}

/// Known items a re-detected listing must hold: [`MIN_KNOWN`], or all when the feed knows
/// fewer, and at least one (a feed without history cannot recognise its listing).
pub fn needed(known: usize) -> usize {
    known.clamp(1, MIN_KNOWN)
}

/// The heal acceptance rule: the first (best-ranked) offer whose item ids hold at least
/// [`needed`] of `known`. Ids are canonical links; duplicates count once.
pub fn accept<S: AsRef<str>>(known: &HashSet<String>, offers: &[Vec<S>]) -> Verdict {
    let needed = needed(known.len());
    let mut best = 0;
    for (index, ids) in offers.iter().enumerate() {
        let held = ids
            .iter()
            .map(AsRef::as_ref)
            .filter(|id| known.contains(*id))
            .collect::<HashSet<&str>>()
            .len();
        if held >= needed {
            return Verdict::Take { index, held };
        }
        best = best.max(held);
    }
    Verdict::Refuse { held: best, needed }
}

/// Settles what the extraction stage gave: keeps or saves the pin, heals a broken listing
/// with a re-detected one when [`accept`] takes it. `known` reads the ids of the items the
/// feed has published; it is only called when a listing broke.
pub fn settle(
    feed: &FeedSpec,
    plan: &Plan,
    result: Result<ListingPage, ExtractError>,
    known: impl FnOnce() -> Result<HashSet<String>, StoreError>,
    now: DateTime<Utc>,
) -> Result<Settled, SettleError> {
    let mut error = match result {
        Ok(page) => {
            let remember = match (plan.memory(), &feed.rules) {
                (Some(_), _) => Remember::Keep,
                (None, None) => RememberedListing::of(&page.source).map_or(Remember::Keep, |l| {
                    Remember::Save(Box::new(ListingMemory {
                        config_key: config_key(feed),
                        kind: MemoryKind::Pinned,
                        listing: l,
                        since: now,
                        broken: None,
                    }))
                }),
                (None, Some(_)) if plan.stale => Remember::Forget,
                (None, Some(_)) => Remember::Keep,
            };
            return Ok(Settled {
                page,
                remember,
                healed: plan.healed(),
                held: None,
            });
        }
        Err(e) => e,
    };
    let alternatives = error.take_alternatives();
    let pinned = plan.memory().is_some_and(|m| m.kind == MemoryKind::Pinned);
    if alternatives.is_empty() || !feed.heal {
        return Err(if pinned && feed.heal {
            SettleError::PinLost(error)
        } else {
            SettleError::Extract(error)
        });
    }
    let known = known()?;
    let offers: Vec<Vec<String>> = alternatives.iter().map(ListingPage::ids).collect();
    match accept(&known, &offers) {
        Verdict::Take { index, held } => {
            let page = alternatives
                .into_iter()
                .nth(index)
                .expect("accept returns the index of an offer");
            let CardSource::Detected(c) = &page.source else {
                return Err(SettleError::Extract(error));
            };
            let broken = plan
                .memory()
                .map(|m| m.listing.card().to_string())
                .or_else(|| feed.rules.as_ref().map(|r| r.card_source.clone()))
                .unwrap_or_default();
            let healed = Healed {
                broken: broken.clone(),
                selectors: c.selectors.clone(),
                since: now,
            };
            let memory = ListingMemory {
                config_key: config_key(feed),
                kind: MemoryKind::Healed,
                listing: RememberedListing::Selectors(c.selectors.clone()),
                since: now,
                broken: Some(broken),
            };
            Ok(Settled {
                page,
                remember: Remember::Save(Box::new(memory)),
                healed: Some(healed),
                held: Some(held),
            })
        }
        Verdict::Refuse { held, needed } => Err(SettleError::Refused(Box::new(Refused {
            error,
            offers: offers.len(),
            held,
            needed,
            known: known.len(),
        }))),
    }
}

/// The `[feed.select]` block of `selectors`, ready to paste into a `[[feed]]`.
pub fn select_block(selectors: &SelectorSet) -> String {
    let q = |s: &str| toml::Value::String(s.to_string()).to_string();
    let mut out = String::from("[feed.select]\n");
    for (key, sel) in selectors.fields() {
        let _ = writeln!(out, "{key} = {}", q(sel));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn known(ids: &[&str]) -> HashSet<String> {
        ids.iter().map(|s| (*s).to_string()).collect()
    }

    fn offer(ids: &[&str]) -> Vec<String> {
        ids.iter().map(|s| (*s).to_string()).collect()
    }

    /// One case: what it shows, the feed's known items, the re-detected listings (best
    /// first), and the verdict.
    type Case<'a> = (&'a str, &'a [&'a str], &'a [&'a [&'a str]], Verdict);

    #[test]
    fn acceptance_rule() {
        let rows: &[Case<'_>] = &[
            (
                "no history: nothing to recognise a listing by",
                &[],
                &[&["a", "b", "c"]],
                Verdict::Refuse { held: 0, needed: 1 },
            ),
            (
                "three known, all on the page",
                &["a", "b", "c"],
                &[&["x", "a", "b", "c"]],
                Verdict::Take { index: 0, held: 3 },
            ),
            (
                "many known, three on the page are enough",
                &["a", "b", "c", "d", "e", "f"],
                &[&["new1", "new2", "d", "e", "f"]],
                Verdict::Take { index: 0, held: 3 },
            ),
            (
                "many known, two on the page are not",
                &["a", "b", "c", "d", "e", "f"],
                &[&["new1", "new2", "e", "f"]],
                Verdict::Refuse { held: 2, needed: 3 },
            ),
            (
                "two known: both needed",
                &["a", "b"],
                &[&["a", "x", "y"]],
                Verdict::Refuse { held: 1, needed: 2 },
            ),
            (
                "two known, both there",
                &["a", "b"],
                &[&["b", "a"]],
                Verdict::Take { index: 0, held: 2 },
            ),
            (
                "one known, it is there",
                &["a"],
                &[&["z", "a"]],
                Verdict::Take { index: 0, held: 1 },
            ),
            (
                "an unrelated page: none of the known items",
                &["a", "b", "c", "d"],
                &[&["p", "q", "r"], &["s", "t", "u"]],
                Verdict::Refuse { held: 0, needed: 3 },
            ),
            (
                "the best-ranked qualifying listing wins over a lower one holding more",
                &["a", "b", "c", "d", "e"],
                &[&["a", "x"], &["a", "b", "c"], &["a", "b", "c", "d", "e"]],
                Verdict::Take { index: 1, held: 3 },
            ),
            (
                "duplicate links count once",
                &["a", "b", "c"],
                &[&["a", "a", "a", "b"]],
                Verdict::Refuse { held: 2, needed: 3 },
            ),
            (
                "no listing found",
                &["a", "b", "c"],
                &[],
                Verdict::Refuse { held: 0, needed: 3 },
            ),
        ];
        for (what, k, offers, want) in rows {
            let offers: Vec<Vec<String>> = offers.iter().map(|o| offer(o)).collect();
            assert_eq!(accept(&known(k), &offers), *want, "{what}");
        }
    }

    #[test]
    fn needed_items() {
        for (known, needed) in [(0, 1), (1, 1), (2, 2), (3, 3), (4, 3), (500, 3)] {
            assert_eq!(super::needed(known), needed, "{known} known");
        }
    }

    #[test]
    fn remembered_listings_round_trip_through_json() {
        let sel = SelectorSet {
            card: "div[data-x=\"a\"] > li".into(),
            title: "h2".into(),
            date: Some("time@datetime".into()),
            ..SelectorSet::default()
        };
        for l in [
            RememberedListing::Selectors(sel.clone()),
            RememberedListing::Structured { fill: Some(sel) },
            RememberedListing::Structured { fill: None },
        ] {
            assert_eq!(RememberedListing::from_json(&l.to_json()), Some(l));
        }
        assert_eq!(RememberedListing::from_json("{\"other\": 1}"), None);
        assert_eq!(RememberedListing::from_json("not json"), None);
    }

    fn feed(extra: &str) -> FeedSpec {
        let text =
            format!("[[feed]]\nid = \"f\"\ntitle = \"F\"\nurl = \"https://e.org/news\"\n{extra}\n");
        crate::config::parse(
            &text,
            std::path::Path::new("t.toml"),
            &crate::config::Overrides::default(),
        )
        .expect("valid")
        .feeds
        .remove(0)
    }

    fn memory(f: &FeedSpec, kind: MemoryKind) -> ListingMemory {
        ListingMemory {
            config_key: config_key(f),
            kind,
            listing: RememberedListing::Selectors(SelectorSet {
                card: "li.tile".into(),
                title: "h3".into(),
                ..SelectorSet::default()
            }),
            since: DateTime::<Utc>::default(),
            broken: Some("li.card".into()),
        }
    }

    #[test]
    fn a_memory_belongs_to_the_config_it_was_made_under() {
        let configured = feed("[feed.select]\ncard = \"li.card\"\ntitle = \"h3\"");
        let m = memory(&configured, MemoryKind::Healed);
        let plan = Plan::new(&configured, Some(m.clone()));
        assert!(
            matches!(plan.listing(&configured), Listing::Selectors(r) if r.card_source == "li.tile")
        );
        assert_eq!(plan.healed().map(|h| h.broken), Some("li.card".into()));
        // The user pastes other selectors: the memory no longer applies.
        let edited = feed("[feed.select]\ncard = \"li.tile\"\ntitle = \"h3\"");
        assert_ne!(config_key(&edited), config_key(&configured));
        let plan = Plan::new(&edited, Some(m));
        assert!(plan.memory().is_none() && plan.healed().is_none());
        assert!(
            matches!(plan.listing(&edited), Listing::Selectors(r) if r.card_source == "li.tile")
        );
        let auto = feed("");
        assert!(matches!(
            Plan::new(&auto, None).listing(&auto),
            Listing::Auto
        ));
        let pinned = Plan::new(&auto, Some(memory(&auto, MemoryKind::Pinned)));
        assert!(pinned.healed().is_none(), "a pin is not a heal");
        assert!(matches!(pinned.listing(&auto), Listing::Selectors(_)));
    }

    #[test]
    fn select_block_parses_back() {
        let sel = SelectorSet {
            card: "div.a, div.b > article".into(),
            title: "h2 a[title='x']".into(),
            author: Some(".by".into()),
            ..SelectorSet::default()
        };
        let text = format!(
            "[[feed]]\nid = \"f\"\ntitle = \"F\"\nurl = \"https://e.org/\"\n{}",
            select_block(&sel)
        );
        let cfg = crate::config::parse(
            &text,
            std::path::Path::new("t.toml"),
            &crate::config::Overrides::default(),
        )
        .unwrap_or_else(|e| panic!("{e}\n{text}"));
        let rules = cfg.feeds[0].rules.as_ref().expect("rules");
        assert_eq!(rules.card_source, sel.card);
        assert_eq!(rules.title.source(), sel.title);
    }
}
