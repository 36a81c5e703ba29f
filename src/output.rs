//! Atomic file output: a feed file is always either its old or its new complete version.

use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// Writes `bytes` to `path` unless the file already holds exactly them. Returns whether the
/// file was written. Writes go to a temporary file in the same directory, which is fsynced
/// and renamed over the target, then the directory is fsynced so the rename survives a crash.
pub fn write_if_changed(path: &Path, bytes: &[u8]) -> io::Result<bool> {
    write_all_if_changed(&[(path.to_path_buf(), bytes.to_vec())])
        .map(|n| n > 0)
        .map_err(|e| e.source)
}

/// A file of [`write_all_if_changed`] that could not be written.
#[derive(Debug)]
pub struct WriteError {
    pub path: PathBuf,
    pub source: io::Error,
}

/// Writes every `(path, bytes)` whose file does not already hold exactly those bytes; all
/// paths share one directory. Returns how many files were written.
///
/// Same guarantee as [`write_if_changed`] for each file (old or new complete version, the
/// rename durable once this returns), with fewer waits for the disk: the temporary files are
/// fsynced concurrently, so the file system can commit them together, and the directory is
/// fsynced once after all renames instead of once per file. A file that cannot be written
/// leaves every target as it was, unless the failure is in a rename.
pub fn write_all_if_changed(files: &[(PathBuf, Vec<u8>)]) -> Result<usize, WriteError> {
    let fail = |path: &Path| {
        let path = path.to_path_buf();
        move |source| WriteError { path, source }
    };
    let mut todo = Vec::new();
    for (path, bytes) in files {
        if !holds(path, bytes).map_err(fail(path))? {
            todo.push((
                path.as_path(),
                bytes.as_slice(),
                temp_path(path).map_err(fail(path))?,
            ));
        }
    }
    let Some((first, _, _)) = todo.first() else {
        return Ok(0);
    };
    let dir = parent_dir(first);
    fs::create_dir_all(dir).map_err(fail(dir))?;
    let written = std::thread::scope(|s| {
        let others: Vec<_> = todo[1..]
            .iter()
            .map(|(_, bytes, tmp)| s.spawn(move || write_synced(tmp, bytes)))
            .collect();
        let mut results = vec![write_synced(&todo[0].2, todo[0].1)];
        results.extend(others.into_iter().map(|h| {
            h.join()
                .unwrap_or_else(|_| Err(io::Error::other("writer thread panicked")))
        }));
        results
    });
    let remove_temps = || {
        for (_, _, tmp) in &todo {
            let _ = fs::remove_file(tmp);
        }
    };
    for ((path, _, _), result) in todo.iter().zip(written) {
        if let Err(e) = result {
            remove_temps();
            return Err(fail(path)(e));
        }
    }
    for (path, _, tmp) in &todo {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy())
            .unwrap_or_default();
        crate::failpoint::hit("before-rename", &name);
        if let Err(e) = fs::rename(tmp, path) {
            remove_temps();
            return Err(fail(path)(e));
        }
        crate::failpoint::hit("after-write", &name);
    }
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(fail(dir))?;
    Ok(todo.len())
}

/// Whether `path` already holds exactly `bytes` (compared only when the sizes match).
fn holds(path: &Path, bytes: &[u8]) -> io::Result<bool> {
    match fs::metadata(path) {
        Ok(meta) if meta.len() == bytes.len() as u64 => Ok(fs::read(path)? == bytes),
        _ => Ok(false),
    }
}

fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    }
}

/// `dir/.NAME.PID.tmp`: hidden, ours ([`remove_stale_temps`]), unique per process.
fn temp_path(path: &Path) -> io::Result<PathBuf> {
    let name = path.file_name().ok_or_else(|| {
        io::Error::new(io::ErrorKind::InvalidInput, "output path has no file name")
    })?;
    let mut tmp_name = std::ffi::OsString::from(".");
    tmp_name.push(name);
    tmp_name.push(format!(".{}.tmp", std::process::id()));
    Ok(parent_dir(path).join(tmp_name))
}

fn write_synced(tmp: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut f = File::create(tmp)?;
    f.write_all(bytes)?;
    f.sync_all()
}

/// Removes temporary files a killed run left behind in `dir` (only our own naming pattern).
pub fn remove_stale_temps(dir: &Path) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let name = e.file_name();
        let name = name.to_string_lossy();
        if name.starts_with('.') && name.ends_with(".tmp") {
            let _ = fs::remove_file(e.path());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_once_then_skips_identical_bytes() {
        let dir = tempfile::tempdir().expect("tmp");
        let p = dir.path().join("sub/f.rss");
        assert!(write_if_changed(&p, b"one").expect("write"));
        let mtime = fs::metadata(&p).and_then(|m| m.modified()).expect("mtime");
        std::thread::sleep(std::time::Duration::from_millis(20));
        assert!(!write_if_changed(&p, b"one").expect("skip"));
        assert_eq!(
            fs::metadata(&p).and_then(|m| m.modified()).expect("mtime"),
            mtime
        );
        assert!(write_if_changed(&p, b"two!").expect("write"));
        assert_eq!(fs::read(&p).expect("read"), b"two!");
        let leftovers: Vec<_> = fs::read_dir(p.parent().expect("dir"))
            .expect("ls")
            .collect();
        assert_eq!(leftovers.len(), 1, "no temp files left");
    }

    #[test]
    fn writes_a_set_once_then_only_what_changed() {
        let dir = tempfile::tempdir().expect("tmp");
        let p = |n: &str| dir.path().join("out").join(n);
        let set = |a: &str, b: &str, c: &str| {
            vec![
                (p("f.rss"), a.as_bytes().to_vec()),
                (p("f.atom"), b.as_bytes().to_vec()),
                (p("f.json"), c.as_bytes().to_vec()),
            ]
        };
        assert_eq!(write_all_if_changed(&set("r", "a", "j")).expect("write"), 3);
        assert_eq!(write_all_if_changed(&set("r", "a", "j")).expect("skip"), 0);
        assert_eq!(write_all_if_changed(&set("r", "a2", "j")).expect("one"), 1);
        assert_eq!(fs::read(p("f.atom")).expect("read"), b"a2");
        assert_eq!(write_all_if_changed(&[]).expect("nothing"), 0);
        let mut names: Vec<_> = fs::read_dir(dir.path().join("out"))
            .expect("ls")
            .flatten()
            .map(|e| e.file_name().into_string().expect("utf-8"))
            .collect();
        names.sort();
        assert_eq!(names, ["f.atom", "f.json", "f.rss"], "no temp files left");
    }

    #[test]
    fn a_failed_file_leaves_every_target_as_it_was() {
        let dir = tempfile::tempdir().expect("tmp");
        let ok = dir.path().join("f.rss");
        fs::write(&ok, b"old").expect("w");
        // A directory where the temp file should go cannot be created as a file.
        let blocked = dir.path().join("f.atom");
        fs::create_dir(
            dir.path()
                .join(format!(".f.atom.{}.tmp", std::process::id())),
        )
        .expect("mkdir");
        let err = write_all_if_changed(&[
            (ok.clone(), b"new".to_vec()),
            (blocked.clone(), b"x".to_vec()),
        ])
        .expect_err("must fail");
        assert_eq!(err.path, blocked);
        assert_eq!(fs::read(&ok).expect("read"), b"old");
        assert!(!blocked.exists());
    }

    #[test]
    fn stale_temps_are_removed_but_feeds_kept() {
        let dir = tempfile::tempdir().expect("tmp");
        fs::write(dir.path().join(".a.rss.123.tmp"), b"half").expect("w");
        fs::write(dir.path().join("a.rss"), b"full").expect("w");
        remove_stale_temps(dir.path());
        let names: Vec<_> = fs::read_dir(dir.path())
            .expect("ls")
            .flatten()
            .map(|e| e.file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("a.rss")]);
    }
}
