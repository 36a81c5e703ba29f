//! Renders a varied 25-item feed in every format and runs the shared strict checker,
//! `shared/tools/feedcheck`, on each file.
//!
//! The checker lives outside the crate: `$SCIFEED_SHARED/tools/feedcheck` when that variable is
//! set (a git worktree has no `../shared`), else `../shared/tools/feedcheck`. The test skips
//! with a note when the checker or the tools it drives (xmllint, jing, newsboat) are missing,
//! and fails instead under `SCIFEED_REQUIRE_SHARED=1`.

use std::path::PathBuf;
use std::process::Command;

use chrono::{DateTime, Duration, TimeZone, Utc};
use scifeed::model::{DateSource, FeedMeta, Item};
use scifeed::render::{Format, render};

const ITEMS: usize = 25;

fn feedcheck() -> Option<PathBuf> {
    let path = crate::shared_dir().join("tools/feedcheck");
    if !path.exists() {
        crate::skip_or_fail(&format!("{} does not exist", path.display()));
        return None;
    }
    for tool in ["xmllint", "jing", "newsboat"] {
        let found = Command::new("which")
            .arg(tool)
            .output()
            .is_ok_and(|o| o.status.success());
        if !found {
            crate::skip_or_fail(&format!(
                "{tool} is not installed (run shared/tools/install-feedcheck)"
            ));
            return None;
        }
    }
    Some(path)
}

fn meta() -> FeedMeta {
    FeedMeta {
        id: "mixed".to_owned(),
        title: "Science & Society — “Mixed” news".to_owned(),
        description: "A test feed with items of every shape".to_owned(),
        site_url: "https://news.example.org/latest?page=1&lang=en".to_owned(),
        public_url: "https://feeds.example.org/scifeed/".to_owned(),
    }
}

fn base() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 26, 19, 58, 27)
        .single()
        .expect("valid date")
}

/// Item `n` (0 = newest); optional fields go missing on different strides so every
/// combination shows up.
fn item(n: usize) -> Item {
    let titles = [
        "Cancer Cells in Mice May Hitch a Ride with Bone-Healing Stem Cells",
        "Tom & Jerry's \"quantum\" cheese: p < 0.05?",
        "Grüße aus Zürich: Ökologie für alle",
        "DNA 🧬 origami folds into a nanoscale robot",
        "日本の研究者が新しい超伝導体を発見",
        "Why the sky is blue — and sometimes green",
    ];
    let extensions = ["jpg", "png", "webp", "gif", "svg", "jpeg"];
    let published = base() - Duration::minutes(97 * n as i64);
    let id = format!("https://news.example.org/articles/{n:02}-story");
    Item {
        link: if n.is_multiple_of(2) {
            id.clone()
        } else {
            format!("{id}?ref=listing&src=home")
        },
        id,
        title: format!("{} (#{n})", titles[n % titles.len()]),
        // None, one name, or several (one dc:creator / <author> / authors[] entry each).
        authors: match n % 3 {
            1 => Vec::new(),
            0 => vec!["Andy Carstens".to_owned()],
            _ => vec![
                "José Núñez".to_owned(),
                "Ann O'Neil & <Co>".to_owned(),
                "Li Wei".to_owned(),
            ],
        },
        read_time: (n % 5 != 2).then_some(1 + n as u32 % 12),
        teaser: (n % 6 != 3).then(|| {
            format!(
                "Researchers have long observed a connection between cancer & bone repair; \
                 now \"mice\" show it (n={n}).\u{1}"
            )
        }),
        image: (n % 4 != 1).then(|| {
            format!(
                "https://cdn.example.org/img/{n}.{}?w=800&h=450",
                extensions[n % extensions.len()]
            )
        }),
        categories: match n % 7 {
            0 => Vec::new(),
            1 => vec!["Cancer".to_owned()],
            _ => vec![
                "Cell & Molecular Biology".to_owned(),
                "Neuroscience".to_owned(),
            ],
        },
        published,
        date_source: DateSource::Page,
        updated: if n.is_multiple_of(4) {
            published + Duration::minutes(30)
        } else {
            published
        },
        first_seen: published,
        position: 0,
        read_time_estimated: false,
        last_seen: published,
    }
}

#[test]
fn every_format_passes_feedcheck() {
    let Some(checker) = feedcheck() else { return };
    let items: Vec<Item> = (0..ITEMS).map(item).collect();
    let dir = tempfile::tempdir().expect("temp dir");
    let mut failures = Vec::new();
    for format in Format::ALL {
        let path = dir.path().join(format!("mixed.{}", format.extension()));
        std::fs::write(&path, render(format, &meta(), &items)).expect("write feed");
        let output = Command::new(&checker)
            .arg(&path)
            .args(["--min-items", &ITEMS.to_string()])
            .args(["--expect-fields", "title,link,date,id"])
            .output()
            .expect("run feedcheck");
        let report = format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        println!("== {format:?}\n{report}");
        if !output.status.success() {
            failures.push(format!("{format:?} ({}):\n{report}", output.status));
        }
    }
    if !failures.is_empty() {
        let kept = dir.keep();
        panic!(
            "feedcheck failed; files kept in {}\n{}",
            kept.display(),
            failures.join("\n")
        );
    }
}
