//! `scifeed add URL`: turns what discovery found on a page into a new `[[feed]]` of the
//! config, written where the config keeps its feeds: the config file itself, or
//! `<dir>/<id>.toml` when the config includes `<dir>/*.toml`.
//!
//! The block is appended with `toml_edit`, so the rest of the file keeps its comments and
//! layout byte for byte. The edited config is validated as a whole, included files and all,
//! before the file is replaced (atomically); an id used anywhere in the config is refused.

use std::path::{Path, PathBuf};

use toml_edit::{DocumentMut, Item, Table, value};

use crate::config::{self, ConfigError, Overlay, Overrides};
use crate::feed::Config;

/// Why a feed could not be added.
#[derive(Debug, thiserror::Error)]
pub enum AddError {
    #[error("feed id {id:?} is already used in {}; choose another with --id", config.display())]
    IdTaken { id: String, config: PathBuf },
    #[error(
        "--id {0:?} is not a usable id: use 1-64 characters from a-z, 0-9, '-', '_' and '.', starting with a letter or digit"
    )]
    BadId(String),
    #[error("cannot edit {}: {cause}", file.display())]
    Unparsable { file: PathBuf, cause: String },
    #[error("cannot read {}: {source}", file.display())]
    Read {
        file: PathBuf,
        source: std::io::Error,
    },
    /// Never expected: the block comes from discovery and the rest of the config was valid.
    #[error("the config would not be valid with the new feed, so nothing was written:\n{0}")]
    WouldBeInvalid(ConfigError),
    #[error("cannot write {}: {source}", file.display())]
    Write {
        file: PathBuf,
        source: std::io::Error,
    },
}

/// A checked edit: the file to write, its new text, and the config as it will read.
#[derive(Debug)]
pub struct Edit {
    pub file: PathBuf,
    pub text: String,
    /// The new feed's id.
    pub id: String,
    pub config: Config,
}

/// Plans adding `block` (one `[[feed]]` table, as `discover` writes it) to the config at
/// `config_path`, whose current contents are `current` (`None`: there is no config yet).
/// `id` and `title` replace the block's. Reads files but writes nothing.
pub fn plan(
    config_path: &Path,
    current: Option<&Config>,
    block: &str,
    id: Option<&str>,
    title: Option<&str>,
) -> Result<Edit, AddError> {
    let unparsable = |cause: String| AddError::Unparsable {
        file: config_path.to_path_buf(),
        cause,
    };
    let mut feed = first_feed(block).map_err(unparsable)?;
    if let Some(id) = id {
        if !config::valid_id(id) {
            return Err(AddError::BadId(id.to_string()));
        }
        feed["id"] = value(id);
    }
    if let Some(title) = title {
        feed["title"] = value(title);
    }
    let id = feed
        .get("id")
        .and_then(Item::as_str)
        .unwrap_or_default()
        .to_string();
    if current.is_some_and(|c| c.feeds.iter().any(|f| f.id == id)) {
        return Err(AddError::IdTaken {
            id,
            config: config_path.to_path_buf(),
        });
    }
    let file = target(config_path, current.map_or(&[][..], |c| &c.include), &id);
    let existing = match std::fs::read_to_string(&file) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(source) => return Err(AddError::Read { file, source }),
    };
    let text = append_feed(&existing, feed).map_err(|cause| AddError::Unparsable {
        file: file.clone(),
        cause,
    })?;
    let config = config::load_with(
        config_path,
        &Overrides::default(),
        &Overlay::with(&file, text.clone()),
    )
    .map_err(AddError::WouldBeInvalid)?;
    Ok(Edit {
        file,
        text,
        id,
        config,
    })
}

/// Writes a planned edit atomically (temp file, fsync, rename), creating its directory.
pub fn write(edit: &Edit) -> Result<(), AddError> {
    let fail = |source| AddError::Write {
        file: edit.file.clone(),
        source,
    };
    if let Some(dir) = edit.file.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(fail)?;
    }
    crate::output::write_if_changed(&edit.file, edit.text.as_bytes()).map_err(fail)?;
    Ok(())
}

/// Where a new feed goes: `<dir>/<id>.toml` for the first include pattern that collects one
/// file per site (`<dir>/*.toml`), else the config itself.
pub fn target(config_path: &Path, include: &[String], id: &str) -> PathBuf {
    match include.iter().find_map(|p| config::site_dir(p)) {
        Some(dir) => {
            let base = config_path.parent().unwrap_or(Path::new(""));
            base.join(dir).join(format!("{id}.toml"))
        }
        None => config_path.to_path_buf(),
    }
}

/// The first `[[feed]]` table of a TOML text.
fn first_feed(block: &str) -> Result<Table, String> {
    let doc: DocumentMut = block.parse().map_err(|e| format!("{e}"))?;
    doc.get("feed")
        .and_then(Item::as_array_of_tables)
        .and_then(|a| a.get(0))
        .cloned()
        .ok_or_else(|| "the new block holds no [[feed]] table".to_string())
}

/// `existing` with `feed` appended as its last `[[feed]]`, everything else as it was.
pub fn append_feed(existing: &str, mut feed: Table) -> Result<String, String> {
    let mut doc: DocumentMut = existing.parse().map_err(|e| format!("{e}"))?;
    // Tables print in position order: the new ones go after everything already there.
    let mut next = last_position(doc.as_table()).map_or(0, |p| p + 1);
    feed.set_position(Some(next));
    for (_, item) in feed.iter_mut() {
        if let Some(sub) = item.as_table_mut() {
            next += 1;
            sub.set_position(Some(next));
            sub.decor_mut().set_prefix("");
        }
    }
    // What follows the last table (comments, blank lines) stays where it is, before the new
    // feed, then one blank line.
    let trailing = doc.trailing().as_str().unwrap_or("").to_string();
    doc.set_trailing("");
    let gap = if existing.trim().is_empty() || existing.ends_with("\n\n") {
        ""
    } else {
        "\n"
    };
    feed.decor_mut().set_prefix(format!("{trailing}{gap}"));
    feed.decor_mut().set_suffix("");
    match doc.get_mut("feed") {
        None => {
            let mut list = toml_edit::ArrayOfTables::new();
            list.push(feed);
            doc.insert("feed", Item::ArrayOfTables(list));
        }
        Some(Item::ArrayOfTables(list)) => list.push(feed),
        Some(_) => return Err("its `feed` is not a list of [[feed]] tables".to_string()),
    }
    Ok(doc.to_string())
}

/// The largest position of any table below `table`.
fn last_position(table: &Table) -> Option<isize> {
    let mut last = table.position();
    let mut see = |p: Option<isize>| last = last.max(p);
    for (_, item) in table.iter() {
        match item {
            Item::Table(t) => see(last_position(t)),
            Item::ArrayOfTables(list) => {
                for t in list.iter() {
                    see(last_position(t));
                }
            }
            _ => {}
        }
    }
    last
}

#[cfg(test)]
mod tests {
    use super::*;

    const BLOCK: &str = "[[feed]]\nid = \"new\"\ntitle = \"New\"\nurl = \"https://n.org/\"\n[feed.select]\ncard = \"li\"\ntitle = \"h3\"\n";

    fn lines_in_order(old: &str, new: &str) -> bool {
        let mut new_lines = new.lines();
        old.lines().all(|l| new_lines.any(|n| n == l))
    }

    #[test]
    fn appending_keeps_every_byte_before_and_adds_one_feed() {
        let cases = [
            "",
            "# only a comment\n",
            "[settings]\nmax_items = 3   # odd  spacing kept\n",
            "include = [\"sites/*.toml\"]\n\n[[feed]]\nid = \"a\"\n  title   =  \"A\"\nurl = \"https://a.org/\"\n[feed.select]\ncard = \"li\" # why\ntitle = \"h3\"\n\n[hosts.\"a.org\"]\nper_host = 2\n",
            "[[feed]]\nid = \"a\"\ntitle = \"A\"\nurl = \"https://a.org/\"\n\n\n",
            "[[feed]]\nid = \"a\"\ntitle = \"A\"\nurl = \"https://a.org/\"",
        ];
        for old in cases {
            let new = append_feed(old, first_feed(BLOCK).expect("block")).expect("append");
            assert!(
                new.starts_with(old),
                "the old text is kept as it was:\n{old}\n---\n{new}"
            );
            let added = &new[old.len()..];
            assert!(
                added.trim_start().starts_with("[[feed]]\nid = \"new\""),
                "{added}"
            );
            assert!(
                added.ends_with("[feed.select]\ncard = \"li\"\ntitle = \"h3\"\n"),
                "{added}"
            );
            let doc: toml::Table = toml::from_str(&new).expect("valid TOML");
            let feeds = doc["feed"].as_array().expect("feeds");
            assert_eq!(
                feeds
                    .last()
                    .and_then(|f| f.get("id"))
                    .and_then(|v| v.as_str()),
                Some("new")
            );
            assert!(lines_in_order(old, &new));
        }
    }

    #[test]
    fn a_trailing_comment_stays_in_the_file() {
        let old = "[[feed]]\nid = \"a\"\n\n# more sites below, some day\n";
        let new = append_feed(old, first_feed(BLOCK).expect("block")).expect("append");
        assert!(new.starts_with(old), "{new}");
        assert!(new.ends_with("title = \"h3\"\n"), "{new}");
    }

    #[test]
    fn feed_that_is_not_a_table_list_is_refused() {
        let e = append_feed("feed = 3\n", first_feed(BLOCK).expect("block"));
        assert!(e.is_err());
    }

    #[test]
    fn targets() {
        let main = Path::new("conf/scifeed.toml");
        assert_eq!(target(main, &[], "x"), main);
        let include = ["extra.toml".to_string(), "sites/*.toml".to_string()];
        assert_eq!(target(main, &include, "x"), Path::new("conf/sites/x.toml"));
    }
}
