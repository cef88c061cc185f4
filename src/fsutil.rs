//! Writing files so that nothing is ever half-written: a temporary file in the same directory,
//! flushed and synced, then renamed over the target.

use std::io::Write;
use std::path::Path;

use anyhow::Context;

/// Writes `bytes` to `path` atomically (the parent directory is created if needed).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create `{}`", dir.display()))?;
    let mut tmp = tempfile::NamedTempFile::new_in(dir)
        .with_context(|| format!("cannot create a temporary file in `{}`", dir.display()))?;
    tmp.write_all(bytes)
        .and_then(|_| tmp.as_file().sync_all())
        .with_context(|| format!("cannot write `{}`", path.display()))?;
    // a temporary file is private (0600); a report or book file is as readable as any other
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path)
            .map(|m| m.permissions().mode() & 0o777)
            .unwrap_or(0o644);
        tmp.as_file()
            .set_permissions(std::fs::Permissions::from_mode(mode))
            .with_context(|| format!("cannot write `{}`", path.display()))?;
    }
    tmp.persist(path)
        .map_err(|e| e.error)
        .with_context(|| format!("cannot write `{}`", path.display()))?;
    Ok(())
}

/// Writes a set of files into a new directory `target` all at once: the files go to a temporary
/// sibling directory, which is renamed to `target` only when every file is written. `target` must
/// not exist (use [`replace_dir`] to swap an existing one).
pub fn write_dir_atomic(target: &Path, files: &[(String, Vec<u8>)]) -> anyhow::Result<()> {
    let parent = target.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent)
        .with_context(|| format!("cannot create `{}`", parent.display()))?;
    let tmp = tempfile::Builder::new()
        .prefix(".coopledger-")
        .tempdir_in(parent)
        .with_context(|| {
            format!(
                "cannot create a temporary directory in `{}`",
                parent.display()
            )
        })?;
    for (name, bytes) in files {
        let p = tmp.path().join(name);
        if let Some(d) = p.parent() {
            std::fs::create_dir_all(d)?;
        }
        let mut f = std::fs::File::create(&p).with_context(|| format!("cannot write `{name}`"))?;
        f.write_all(bytes)?;
        f.sync_all()?;
    }
    let kept = tmp.keep();
    std::fs::rename(&kept, target).with_context(|| {
        let _ = std::fs::remove_dir_all(&kept);
        format!("cannot move the new files into `{}`", target.display())
    })?;
    Ok(())
}

/// Swaps the directory `target` for a freshly written one holding `files`, keeping the old one
/// under `backup` (which must not exist). Either the old or the new directory is complete at every
/// moment.
pub fn replace_dir(
    target: &Path,
    backup: &Path,
    files: &[(String, Vec<u8>)],
) -> anyhow::Result<()> {
    let parent = target.parent().unwrap_or(Path::new("."));
    let staging = parent.join(format!(
        ".{}.new",
        target.file_name().and_then(|n| n.to_str()).unwrap_or("dir")
    ));
    if staging.exists() {
        std::fs::remove_dir_all(&staging)?;
    }
    write_dir_atomic(&staging, files)?;
    if let Some(b) = backup.parent() {
        std::fs::create_dir_all(b)?;
    }
    std::fs::rename(target, backup)
        .with_context(|| format!("cannot move `{}` aside", target.display()))?;
    if let Err(e) = std::fs::rename(&staging, target) {
        let _ = std::fs::rename(backup, target);
        return Err(e).with_context(|| format!("cannot replace `{}`", target.display()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_file_and_dir() {
        let t = tempfile::tempdir().unwrap();
        let p = t.path().join("a/b.txt");
        write_atomic(&p, b"one").unwrap();
        write_atomic(&p, b"two").unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"two");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&p).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o644);
        }
        let d = t.path().join("closes/2025");
        write_dir_atomic(
            &d,
            &[
                ("x.csv".into(), b"1".to_vec()),
                ("sub/y.json".into(), b"{}".to_vec()),
            ],
        )
        .unwrap();
        assert_eq!(std::fs::read(d.join("sub/y.json")).unwrap(), b"{}");
        assert!(write_dir_atomic(&d, &[]).is_err());
        replace_dir(
            &d,
            &t.path().join("audit/old"),
            &[("z".into(), b"z".to_vec())],
        )
        .unwrap();
        assert!(d.join("z").exists() && !d.join("x.csv").exists());
        assert!(t.path().join("audit/old/x.csv").exists());
    }
}
