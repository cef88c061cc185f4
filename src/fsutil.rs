//! Writing files and directories so that nothing is ever half-written, even when the process is
//! killed (`kill -9`) or the machine loses power: a temporary name in the same directory, flushed
//! and synced, then renamed into place, and the directory synced after every rename. A directory
//! that already exists is rewritten as a whole ([`rewrite_dir`]): a staged copy is edited and
//! swapped in with one atomic rename; the next writer rolls an interrupted swap forward and removes
//! the debris ([`recover_dir`]). The order of the steps and what a crash at each one leaves are in
//! docs/SEALING.md.
//!
//! Testing hook: when `COOPLEDGER_CRASH_AFTER=N` is set, the process aborts (no clean-up, like
//! SIGKILL) right after the N-th write, sync, rename or removal made here; unset, nothing happens.
//! `COOPLEDGER_NO_EXCHANGE=1` makes [`rewrite_dir`] take the portable path (two renames) instead of
//! the atomic exchange.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;

use anyhow::Context;

/// Prefix of every temporary name made here; such names are debris once their writer is gone.
pub const TEMP_PREFIX: &str = ".coopledger-";

/// `COOPLEDGER_CRASH_AFTER`, read once.
fn crash_after() -> Option<u64> {
    static N: OnceLock<Option<u64>> = OnceLock::new();
    *N.get_or_init(|| {
        std::env::var("COOPLEDGER_CRASH_AFTER")
            .ok()
            .and_then(|v| v.trim().parse().ok())
    })
}

/// Counts one durable step (a write, sync, rename or removal); the testing hook aborts after the
/// N-th.
fn step() {
    static STEPS: AtomicU64 = AtomicU64::new(0);
    if let Some(n) = crash_after() {
        if STEPS.fetch_add(1, Ordering::SeqCst) + 1 == n {
            std::process::abort();
        }
    }
}

fn parent_of(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

fn name_of(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "dir".into())
}

/// Syncs a directory, so that the renames and removals made in it survive a power loss (unix:
/// `fsync` of the directory; elsewhere nothing).
pub fn sync_dir(dir: &Path) -> anyhow::Result<()> {
    #[cfg(unix)]
    std::fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .with_context(|| format!("cannot sync `{}`", dir.display()))?;
    step();
    Ok(())
}

fn rename(from: &Path, to: &Path) -> anyhow::Result<()> {
    std::fs::rename(from, to)
        .with_context(|| format!("cannot rename `{}` to `{}`", from.display(), to.display()))?;
    step();
    Ok(())
}

fn remove(path: &Path) -> anyhow::Result<()> {
    let meta = match std::fs::symlink_metadata(path) {
        Ok(m) => m,
        Err(_) => return Ok(()),
    };
    if meta.is_dir() {
        std::fs::remove_dir_all(path)
    } else {
        std::fs::remove_file(path)
    }
    .with_context(|| format!("cannot remove `{}`", path.display()))?;
    step();
    Ok(())
}

/// Creates `dir` (and its parents) when missing, syncing the directory that gained it.
fn ensure_dir(dir: &Path) -> anyhow::Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    ensure_dir(parent_of(dir))?;
    match std::fs::create_dir(dir) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && dir.is_dir() => return Ok(()),
        Err(e) => return Err(e).with_context(|| format!("cannot create `{}`", dir.display())),
    }
    step();
    sync_dir(parent_of(dir))
}

/// Writes a new file (a file already at `path` is unlinked first, never written through: staged
/// copies share their files with the live directory by hard links).
fn write_new(path: &Path, bytes: &[u8], sync: bool) -> anyhow::Result<()> {
    if std::fs::symlink_metadata(path).is_ok() {
        remove(path)?;
    }
    let mut f = std::fs::File::create(path)
        .with_context(|| format!("cannot write `{}`", path.display()))?;
    f.write_all(bytes)
        .with_context(|| format!("cannot write `{}`", path.display()))?;
    step();
    if sync {
        f.sync_all()
            .with_context(|| format!("cannot write `{}`", path.display()))?;
        step();
    }
    Ok(())
}

/// Writes `bytes` to `path` atomically (the parent directory is created if needed).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let dir = parent_of(path);
    ensure_dir(dir)?;
    let mut tmp = tempfile::Builder::new()
        .prefix(&format!("{TEMP_PREFIX}{}~", name_of(path)))
        .tempfile_in(dir)
        .with_context(|| format!("cannot create a temporary file in `{}`", dir.display()))?;
    tmp.write_all(bytes)
        .with_context(|| format!("cannot write `{}`", path.display()))?;
    step();
    tmp.as_file()
        .sync_all()
        .with_context(|| format!("cannot write `{}`", path.display()))?;
    step();
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
    step();
    sync_dir(dir)
}

/// A new, empty staging directory beside `target`: `.coopledger-NAME~XXXXXX`.
fn new_stage(target: &Path) -> anyhow::Result<PathBuf> {
    let parent = parent_of(target);
    ensure_dir(parent)?;
    let tmp = tempfile::Builder::new()
        .prefix(&format!("{TEMP_PREFIX}{}~", name_of(target)))
        .tempdir_in(parent)
        .with_context(|| {
            format!(
                "cannot create a temporary directory in `{}`",
                parent.display()
            )
        })?;
    step();
    let stage = tmp.keep();
    // a temporary directory is private (0700); the new one gets the old one's mode, else 0755
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(target)
            .map(|m| m.permissions().mode() & 0o7777)
            .unwrap_or(0o755);
        std::fs::set_permissions(&stage, std::fs::Permissions::from_mode(mode))
            .with_context(|| format!("cannot write `{}`", target.display()))?;
    }
    Ok(stage)
}

/// Writes a set of files into a new directory `target` all at once: the files go to a temporary
/// sibling directory, which is renamed to `target` only when every file is written and synced.
/// `target` must not exist (use [`rewrite_dir`] to change an existing one).
pub fn write_dir_atomic(target: &Path, files: &[(String, Vec<u8>)]) -> anyhow::Result<()> {
    if target.exists() {
        anyhow::bail!("`{}` already exists", target.display());
    }
    let stage = Stage {
        root: new_stage(target)?,
        sync_each: true,
    };
    let done = files
        .iter()
        .try_for_each(|(name, bytes)| stage.write(name, bytes))
        .and_then(|_| sync_tree(&stage.root))
        .and_then(|_| rename(&stage.root, target));
    if let Err(e) = done {
        let _ = std::fs::remove_dir_all(&stage.root);
        return Err(e).with_context(|| format!("cannot write `{}`", target.display()));
    }
    sync_dir(parent_of(target))
}

/// A staged copy of a directory handed to the `edit` of [`rewrite_dir`]. Its existing files are
/// hard links to the live ones: change them only through [`Stage::write`] and [`Stage::rename`].
pub struct Stage {
    root: PathBuf,
    sync_each: bool,
}

impl Stage {
    /// The staged directory.
    pub fn path(&self) -> &Path {
        &self.root
    }

    /// Writes (or replaces) the file `rel` of the staged directory.
    pub fn write(&self, rel: &str, bytes: &[u8]) -> anyhow::Result<()> {
        let p = self.root.join(rel);
        ensure_dir(parent_of(&p))?;
        write_new(&p, bytes, self.sync_each)
    }

    /// Moves `from` to `to` (both relative to the staged directory; `to` must not exist).
    pub fn rename(&self, from: &str, to: &str) -> anyhow::Result<()> {
        let to = self.root.join(to);
        if to.exists() {
            anyhow::bail!("`{}` already exists", to.display());
        }
        ensure_dir(parent_of(&to))?;
        rename(&self.root.join(from), &to)
    }
}

/// Copies the tree `from` to the new directory `to`, files as hard links (copied when the file
/// system has none), leaving out temporary debris.
fn clone_tree(from: &Path, to: &Path) -> anyhow::Result<()> {
    if std::fs::symlink_metadata(to).is_err() {
        std::fs::create_dir(to).with_context(|| format!("cannot create `{}`", to.display()))?;
        step();
    }
    let mut entries: Vec<std::fs::DirEntry> = std::fs::read_dir(from)
        .with_context(|| format!("cannot read `{}`", from.display()))?
        .collect::<Result<_, _>>()?;
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let name = e.file_name();
        if name.to_string_lossy().starts_with(TEMP_PREFIX) {
            continue;
        }
        let (src, dst) = (e.path(), to.join(&name));
        let ft = e.file_type()?;
        if ft.is_dir() {
            clone_tree(&src, &dst)?;
            continue;
        }
        #[cfg(unix)]
        if ft.is_symlink() {
            std::os::unix::fs::symlink(std::fs::read_link(&src)?, &dst)?;
            step();
            continue;
        }
        if std::fs::hard_link(&src, &dst).is_err() {
            std::fs::copy(&src, &dst)
                .and_then(|_| std::fs::File::open(&dst)?.sync_all())
                .with_context(|| format!("cannot copy `{}`", src.display()))?;
        }
        step();
    }
    Ok(())
}

/// Syncs every directory of a tree, deepest first.
fn sync_tree(dir: &Path) -> anyhow::Result<()> {
    let mut subs: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok())
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .map(|e| e.path())
        .collect();
    subs.sort();
    for s in subs {
        sync_tree(&s)?;
    }
    sync_dir(dir)
}

/// Makes the file data of a staged tree durable in one go (the files were written unsynced).
fn sync_files(dir: &Path) -> anyhow::Result<()> {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    {
        let d = std::fs::File::open(dir)?;
        rustix::fs::syncfs(&d).with_context(|| format!("cannot sync `{}`", dir.display()))?;
        step();
        Ok(())
    }
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    {
        for e in std::fs::read_dir(dir)? {
            let e = e?;
            if e.file_type()?.is_dir() {
                sync_files(&e.path())?;
            } else if e.file_type()?.is_file() {
                std::fs::File::open(e.path())?.sync_all()?;
                step();
            }
        }
        Ok(())
    }
}

/// `.coopledger-NAME~next` (a complete new directory, committed) and `.coopledger-NAME~prev`
/// (the old one being moved aside) of the portable swap.
fn swap_names(target: &Path) -> (PathBuf, PathBuf) {
    let (parent, name) = (parent_of(target), name_of(target));
    (
        parent.join(format!("{TEMP_PREFIX}{name}~next")),
        parent.join(format!("{TEMP_PREFIX}{name}~prev")),
    )
}

/// Exchanges two directories in one atomic step (Linux `renameat2(RENAME_EXCHANGE)`, macOS
/// `renamex_np(RENAME_SWAP)`); `Ok(false)` when the system or file system cannot.
fn exchange(a: &Path, b: &Path) -> anyhow::Result<bool> {
    #[cfg(any(target_os = "linux", target_os = "android", target_vendor = "apple"))]
    {
        use rustix::fs::{renameat_with, RenameFlags, CWD};
        match renameat_with(CWD, a, CWD, b, RenameFlags::EXCHANGE) {
            Ok(()) => {
                step();
                Ok(true)
            }
            Err(e)
                if e == rustix::io::Errno::INVAL
                    || e == rustix::io::Errno::NOSYS
                    || e == rustix::io::Errno::NOTSUP
                    || e == rustix::io::Errno::OPNOTSUPP =>
            {
                Ok(false)
            }
            Err(e) => Err(std::io::Error::from(e))
                .with_context(|| format!("cannot swap in the new `{}`", b.display())),
        }
    }
    #[cfg(not(any(target_os = "linux", target_os = "android", target_vendor = "apple")))]
    {
        let _ = (a, b);
        Ok(false)
    }
}

/// Finishes or undoes an interrupted [`rewrite_dir`] of `target` and removes its debris
/// (`.coopledger-NAME~*` beside it). A committed swap (a complete `~next`) is rolled forward;
/// anything else is dropped, which leaves the old directory. Every writer calls this first.
pub fn recover_dir(target: &Path) -> anyhow::Result<()> {
    let parent = parent_of(target);
    let (next, prev) = swap_names(target);
    if next.is_dir() {
        if target.exists() {
            remove(&prev)?;
            rename(target, &prev)?;
        }
        rename(&next, target)?;
        sync_dir(parent)?;
    } else if !target.exists() && prev.is_dir() {
        rename(&prev, target)?;
        sync_dir(parent)?;
    }
    let prefix = format!("{TEMP_PREFIX}{}~", name_of(target));
    remove_named(parent, |n| {
        n.strip_prefix(&prefix)
            .is_some_and(|rest| !rest.contains('~'))
    })?;
    Ok(())
}

/// Removes every temporary name left in `dir` by an interrupted writer (`.coopledger-*`, and
/// `.tmp*` of earlier versions); for directories only coopledger writes to, like `closes/`.
pub fn remove_debris(dir: &Path) -> anyhow::Result<usize> {
    remove_named(dir, |n| n.starts_with(TEMP_PREFIX) || n.starts_with(".tmp"))
}

/// Removes the entries of `dir` whose names satisfy `debris` (in name order), then syncs `dir`;
/// returns how many were removed.
fn remove_named(dir: &Path, debris: impl Fn(&str) -> bool) -> anyhow::Result<usize> {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return Ok(0);
    };
    let mut found: Vec<PathBuf> = rd
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_str().is_some_and(&debris))
        .map(|e| e.path())
        .collect();
    found.sort();
    for d in &found {
        remove(d)?;
    }
    if !found.is_empty() {
        sync_dir(dir)?;
    }
    Ok(found.len())
}

/// How [`rewrite_dir`] makes file data durable before the swap.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    /// `fsync` of every file as it is written (a few files: sealed records)
    EachFile,
    /// one sync of the whole file system before the swap (many files: statements)
    Batch,
}

/// Rewrites the directory `target` as a whole, in one atomic step: `edit` changes a staged copy
/// (its files hard links to the live ones; a missing `target` starts empty), the copy is synced
/// and swapped in with one rename, and the old tree removed. A kill at any moment leaves either the
/// old directory or the new one; the next call (or [`recover_dir`]) removes the debris.
pub fn rewrite_dir<T>(
    target: &Path,
    durability: Durability,
    edit: impl FnOnce(&Stage) -> anyhow::Result<T>,
) -> anyhow::Result<T> {
    let swap = std::env::var_os("COOPLEDGER_NO_EXCHANGE").is_none();
    rewrite_dir_with(&resolve(target)?, durability, swap, edit)
}

/// The directory a [`rewrite_dir`] swaps: a symbolic link is followed (the link stays), and a
/// directory that holds the current one is refused (the process would be left in the old tree).
fn resolve(target: &Path) -> anyhow::Result<PathBuf> {
    let t = match std::fs::read_link(target) {
        Ok(l) => parent_of(target).join(l),
        Err(_) => target.to_path_buf(),
    };
    let Some(name) = t.file_name() else {
        anyhow::bail!(
            "`{}` cannot be written as a whole; name a directory",
            target.display()
        );
    };
    let parent = parent_of(&t);
    let t = std::fs::canonicalize(parent)
        .unwrap_or_else(|_| parent.to_path_buf())
        .join(name);
    if t.exists() && std::env::current_dir().is_ok_and(|cwd| cwd.starts_with(&t)) {
        anyhow::bail!(
            "`{}` holds the current directory and cannot be replaced as a whole; name another directory",
            target.display()
        );
    }
    Ok(t)
}

fn rewrite_dir_with<T>(
    target: &Path,
    durability: Durability,
    swap: bool,
    edit: impl FnOnce(&Stage) -> anyhow::Result<T>,
) -> anyhow::Result<T> {
    recover_dir(target)?;
    let stage = Stage {
        root: new_stage(target)?,
        sync_each: durability == Durability::EachFile,
    };
    let staged = (|| {
        if target.is_dir() {
            clone_tree(target, &stage.root)?;
        }
        let out = edit(&stage)?;
        if durability == Durability::Batch {
            sync_files(&stage.root)?;
        }
        sync_tree(&stage.root)?;
        Ok(out)
    })();
    let out = match staged {
        Ok(out) => out,
        Err(e) => {
            let _ = std::fs::remove_dir_all(&stage.root);
            return Err(e);
        }
    };
    commit(target, &stage.root, swap)?;
    Ok(out)
}

/// Swaps the complete staged tree `stage` in as `target`.
fn commit(target: &Path, stage: &Path, swap: bool) -> anyhow::Result<()> {
    let parent = parent_of(target);
    if !target.exists() {
        rename(stage, target)?;
        return sync_dir(parent);
    }
    if swap && exchange(stage, target)? {
        // `stage` now holds the old tree
        sync_dir(parent)?;
        remove(stage)?;
        return sync_dir(parent);
    }
    // portable: the complete tree gets its committed name, then two renames; an interruption
    // between them is rolled forward by `recover_dir`
    let (next, prev) = swap_names(target);
    rename(stage, &next)?;
    sync_dir(parent)?;
    if let Err(e) = rename(target, &prev) {
        let _ = std::fs::remove_dir_all(&next);
        return Err(e);
    }
    rename(&next, target)?;
    sync_dir(parent)?;
    remove(&prev)?;
    sync_dir(parent)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(p: &Path) -> String {
        std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
    }

    fn names(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(dir)
            .unwrap_or_else(|e| panic!("{e}"))
            .map(|e| {
                e.unwrap_or_else(|e| panic!("{e}"))
                    .file_name()
                    .to_string_lossy()
                    .into_owned()
            })
            .collect();
        v.sort();
        v
    }

    #[test]
    fn atomic_file_and_dir() {
        let t = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let p = t.path().join("a/b.txt");
        write_atomic(&p, b"one").unwrap_or_else(|e| panic!("{e}"));
        write_atomic(&p, b"two").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(read(&p), "two");
        assert_eq!(names(&t.path().join("a")), vec!["b.txt"]);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&p).map(|m| m.permissions().mode() & 0o777);
            assert_eq!(mode.ok(), Some(0o644));
        }
        let d = t.path().join("closes/2025");
        write_dir_atomic(
            &d,
            &[
                ("x.csv".into(), b"1".to_vec()),
                ("sub/y.json".into(), b"{}".to_vec()),
            ],
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(read(&d.join("sub/y.json")), "{}");
        assert!(write_dir_atomic(&d, &[]).is_err());
        assert_eq!(names(&t.path().join("closes")), vec!["2025"]);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&d).map(|m| m.permissions().mode() & 0o777);
            assert_eq!(mode.ok(), Some(0o755));
        }
    }

    #[test]
    fn a_rewrite_never_writes_through_to_the_live_files() {
        for portable in [false, true] {
            let t = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
            let d = t.path().join("closes");
            write_dir_atomic(&d.join("2025"), &[("a".into(), b"old".to_vec())])
                .unwrap_or_else(|e| panic!("{e}"));
            let live = d.join("2025/a");
            let held = std::fs::File::open(&live).unwrap_or_else(|e| panic!("{e}"));
            let r = rewrite_dir_with(&d, Durability::EachFile, !portable, |s| {
                s.rename("2025", ".audit/2025-1")?;
                s.write("2025/a", b"new")?;
                s.write("audit.log", b"line\n")?;
                // nothing is visible before the swap
                assert_eq!(read(&live), "old");
                Ok(7)
            });
            drop(held);
            assert_eq!(r.ok(), Some(7));
            assert_eq!(read(&d.join("2025/a")), "new");
            assert_eq!(read(&d.join(".audit/2025-1/a")), "old");
            assert_eq!(names(t.path()), vec!["closes"]);
        }
    }

    #[test]
    fn an_interrupted_portable_swap_is_rolled_forward_or_dropped() {
        let t = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let d = t.path().join("out");
        let (next, prev) = swap_names(&d);
        let mk = |dir: &Path, body: &str| {
            std::fs::create_dir_all(dir).unwrap_or_else(|e| panic!("{e}"));
            std::fs::write(dir.join("f"), body).unwrap_or_else(|e| panic!("{e}"));
        };
        // committed, old not yet moved aside
        mk(&d, "old");
        mk(&next, "new");
        mk(&t.path().join(".coopledger-out~abc123"), "half");
        recover_dir(&d).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(read(&d.join("f")), "new");
        assert_eq!(names(t.path()), vec!["out"]);
        // committed, old moved aside, new not yet in place
        std::fs::rename(&d, &prev).unwrap_or_else(|e| panic!("{e}"));
        mk(&next, "newer");
        recover_dir(&d).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(read(&d.join("f")), "newer");
        assert_eq!(names(t.path()), vec!["out"]);
        // in place, old not yet removed; another directory's debris is not touched
        mk(&prev, "old");
        mk(&t.path().join(".coopledger-out~x~y"), "other");
        recover_dir(&d).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(read(&d.join("f")), "newer");
        assert_eq!(names(t.path()), vec![".coopledger-out~x~y", "out"]);
    }
}
