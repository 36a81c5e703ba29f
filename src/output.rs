//! Atomic file output: a feed file is always either its old or its new complete version.

use std::fs::{self, File};
use std::io::{self, Write};
use std::path::Path;

/// Writes `bytes` to `path` unless the file already holds exactly them. Returns whether the
/// file was written. Writes go to a temporary file in the same directory, which is fsynced
/// and renamed over the target, then the directory is fsynced so the rename survives a crash.
pub fn write_if_changed(path: &Path, bytes: &[u8]) -> io::Result<bool> {
    if let Ok(meta) = fs::metadata(path)
        && meta.len() == bytes.len() as u64
        && fs::read(path)? == bytes
    {
        return Ok(false);
    }
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    fs::create_dir_all(dir)?;
    let name = path.file_name().ok_or_else(|| {
        io::Error::new(io::ErrorKind::InvalidInput, "output path has no file name")
    })?;
    let mut tmp_name = std::ffi::OsString::from(".");
    tmp_name.push(name);
    tmp_name.push(format!(".{}.tmp", std::process::id()));
    let tmp = dir.join(tmp_name);
    let result = (|| {
        let mut f = File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        drop(f);
        crate::failpoint::hit("before-rename", &name.to_string_lossy());
        fs::rename(&tmp, path)?;
        File::open(dir)?.sync_all()
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result.map(|()| true)
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
