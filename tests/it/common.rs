//! Helpers shared by the integration tests.
use std::path::{Path, PathBuf};
use std::process::Command;

pub fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_coopledger"))
}

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn fixture(name: &str) -> PathBuf {
    root().join("tests/fixtures").join(name)
}

/// Copies a book directory into a fresh temporary directory (so tests can seal it).
pub fn copy_book(src: &Path) -> (tempfile::TempDir, PathBuf) {
    let t = tempfile::tempdir().unwrap();
    let dst = t.path().join("book");
    std::fs::create_dir_all(&dst).unwrap();
    for e in std::fs::read_dir(src).unwrap() {
        let e = e.unwrap();
        if e.file_type().unwrap().is_file() {
            std::fs::copy(e.path(), dst.join(e.file_name())).unwrap();
        }
    }
    (t, dst)
}

pub fn run(cmd: &mut Command) -> (i32, String, String) {
    let o = cmd.output().unwrap();
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

/// Runs `hledger check --strict` and `bean-check` (when installed) on journals.
pub fn real_checkers(hledger: &str, beancount: &str) {
    let dir = tempfile::tempdir().unwrap();
    let (j, bc) = (dir.path().join("r.journal"), dir.path().join("r.beancount"));
    std::fs::write(&j, hledger).unwrap();
    std::fs::write(&bc, beancount).unwrap();
    let have = |tool: &str| {
        Command::new("which")
            .arg(tool)
            .output()
            .is_ok_and(|o| o.status.success())
    };
    if have("hledger") {
        let o = Command::new("hledger")
            .arg("-f")
            .arg(&j)
            .args(["check", "--strict"])
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
    if have("bean-check") {
        let o = Command::new("bean-check").arg(&bc).output().unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
}

/// A fixture book in a fresh temporary directory (ripgrep's `Dir` pattern): copied from a book of
/// the repository, optionally with years sealed, edited in place by the test, removed on drop.
pub struct Book {
    tmp: tempfile::TempDir,
    dir: PathBuf,
}

impl Book {
    /// A copy of the book at `rel` (relative to the repository root).
    pub fn copy(rel: &str) -> Book {
        let (tmp, dir) = copy_book(&root().join(rel));
        Book { tmp, dir }
    }

    /// A copy of the book at `rel` with `years` closed and sealed, in order.
    pub fn sealed(rel: &str, years: &[i32]) -> Book {
        let b = Book::copy(rel);
        for y in years {
            let (code, _, err) = run(bin()
                .arg("close")
                .arg(&b.dir)
                .args(["--year", &y.to_string()]));
            assert_eq!(code, 0, "close {y}: {err}");
        }
        b
    }

    /// The book directory.
    pub fn path(&self) -> &Path {
        &self.dir
    }

    /// The temporary directory that holds the book (for outputs beside it).
    pub fn tmp(&self) -> &Path {
        self.tmp.path()
    }

    /// Replaces the first `from` in `file` (relative to the book) by `to`; panics when absent.
    pub fn edit(&self, file: &str, from: &str, to: &str) {
        let p = self.dir.join(file);
        let text = std::fs::read_to_string(&p).unwrap();
        assert!(text.contains(from), "{file} has no `{from}`");
        std::fs::write(&p, text.replacen(from, to, 1)).unwrap();
    }
}
