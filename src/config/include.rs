//! `include = ["sites/*.toml"]`: which files a main config pulls in, in a deterministic order.

use std::path::{Path, PathBuf};

/// Files given as text instead of read from disk (they may not exist yet): `scifeed add`
/// checks the config it is about to write this way.
#[derive(Debug, Clone, Default)]
pub struct Overlay {
    files: Vec<(PathBuf, String)>,
}

impl Overlay {
    /// An overlay where `path` holds `text`.
    pub fn with(path: &Path, text: String) -> Overlay {
        Overlay {
            files: vec![(normal(path), text)],
        }
    }

    /// The text of `path`: the overlay's, else the file's.
    pub(crate) fn read(&self, path: &Path) -> std::io::Result<std::borrow::Cow<'_, str>> {
        let key = normal(path);
        match self.files.iter().find(|(p, _)| *p == key) {
            Some((_, text)) => Ok(text.as_str().into()),
            None => std::fs::read_to_string(path).map(Into::into),
        }
    }

    fn paths(&self) -> impl Iterator<Item = &Path> {
        self.files.iter().map(|(p, _)| p.as_path())
    }
}

/// `path` made absolute (without touching the file system), so two spellings of one file
/// compare equal.
pub(crate) fn normal(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
}

/// Why an include pattern gave no files.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum PatternError {
    /// Not a valid glob.
    Syntax(String),
    /// A plain path (no wildcard) that does not exist.
    Missing(PathBuf),
    /// A directory could not be listed.
    Io(String),
}

/// The files one pattern names, relative to `dir`, sorted by path. A pattern with wildcards
/// may match nothing (an empty `sites/` is a valid config); a plain path must exist.
pub(crate) fn expand(
    dir: &Path,
    pattern: &str,
    overlay: &Overlay,
) -> Result<Vec<PathBuf>, PatternError> {
    let full = if Path::new(pattern).is_absolute() {
        pattern.to_string()
    } else {
        // The directory is a path, not a pattern: brackets or stars in it are literal.
        let base = glob::Pattern::escape(&dir.to_string_lossy());
        if base.is_empty() {
            pattern.to_string()
        } else {
            format!("{}/{pattern}", base.trim_end_matches('/'))
        }
    };
    let compiled = glob::Pattern::new(&full).map_err(|e| PatternError::Syntax(e.to_string()))?;
    // `*` skips hidden files (editor backups and the like), as a shell does.
    let match_opts = glob::MatchOptions {
        require_literal_leading_dot: true,
        ..glob::MatchOptions::new()
    };
    let mut files = Vec::new();
    let entries =
        glob::glob_with(&full, match_opts).map_err(|e| PatternError::Syntax(e.to_string()))?;
    for entry in entries {
        let path = entry.map_err(|e| PatternError::Io(e.to_string()))?;
        if path.is_file() {
            files.push(path);
        }
    }
    for p in overlay.paths() {
        let relative = p.strip_prefix(normal(dir)).ok().map(|r| dir.join(r));
        let candidate = relative.unwrap_or_else(|| p.to_path_buf());
        if compiled.matches_path_with(&candidate, match_opts)
            && !files.iter().any(|f| normal(f) == p)
        {
            files.push(candidate);
        }
    }
    files.sort();
    if files.is_empty() && !has_wildcard(pattern) {
        return Err(PatternError::Missing(PathBuf::from(full)));
    }
    Ok(files)
}

fn has_wildcard(pattern: &str) -> bool {
    pattern.contains(['*', '?', '['])
}

/// The directory a pattern such as `sites/*.toml` collects one file per site from, if it is
/// one: a plain directory followed by `*.toml`.
pub fn site_dir(pattern: &str) -> Option<&Path> {
    let (dir, file) = pattern.rsplit_once('/')?;
    (file == "*.toml" && !dir.is_empty() && !has_wildcard(dir)).then_some(Path::new(dir))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_expand_sorted_relative_to_the_config() {
        let tmp = tempfile::tempdir().expect("tmp");
        let dir = tmp.path().join("conf [main]");
        std::fs::create_dir_all(dir.join("sites/sub")).expect("mkdir");
        for f in [
            "sites/b.toml",
            "sites/a.toml",
            "sites/.hidden.toml",
            "sites/c.txt",
            "x.toml",
        ] {
            std::fs::write(dir.join(f), "").expect("write");
        }
        let names = |v: Vec<PathBuf>| -> Vec<String> {
            v.iter()
                .map(|p| {
                    p.strip_prefix(&dir)
                        .expect("under dir")
                        .display()
                        .to_string()
                })
                .collect()
        };
        let none = Overlay::default();
        assert_eq!(
            names(expand(&dir, "sites/*.toml", &none).expect("ok")),
            ["sites/a.toml", "sites/b.toml"]
        );
        assert_eq!(
            names(expand(&dir, "x.toml", &none).expect("ok")),
            ["x.toml"]
        );
        assert_eq!(expand(&dir, "none/*.toml", &none), Ok(vec![]));
        assert!(matches!(
            expand(&dir, "missing.toml", &none),
            Err(PatternError::Missing(_))
        ));
        assert!(matches!(
            expand(&dir, "sites/[.toml", &none),
            Err(PatternError::Syntax(_))
        ));
        // A file that exists only in the overlay is matched and sorted in.
        let overlay = Overlay::with(&dir.join("sites/aa.toml"), String::new());
        assert_eq!(
            names(expand(&dir, "sites/*.toml", &overlay).expect("ok")),
            ["sites/a.toml", "sites/aa.toml", "sites/b.toml"]
        );
    }

    #[test]
    fn site_dirs() {
        assert_eq!(site_dir("sites/*.toml"), Some(Path::new("sites")));
        assert_eq!(site_dir("a/b/*.toml"), Some(Path::new("a/b")));
        assert_eq!(site_dir("sites/x.toml"), None);
        assert_eq!(site_dir("*/x/*.toml"), None);
        assert_eq!(site_dir("*.toml"), None);
    }
}
