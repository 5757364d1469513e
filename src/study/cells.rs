//! The sweep's unit of work: a cell, named by an id (`curve/<task>/n<budget>`,
//! `confidence/<task>`, `metrics/<task>/r<repeat>`), stored as one JSON file under the results
//! directory, written atomically when done, and found done only when its recorded key address
//! is the one a run would use now. While a cell is computed its writer holds a [`CellLock`], so
//! that many processes (the tasks of a SLURM array, on many nodes) sharing one results directory
//! never compute one cell twice at once.

use std::fmt;
use std::fs::{File, OpenOptions};
use std::io::{Read as _, Seek as _, Write as _};
use std::path::{Path, PathBuf};
use std::str::FromStr;

use anyhow::bail;

/// One cell of a sweep.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CellId {
    /// Fine-tune on `budget` examples of `task` (budget 0: the base model) and score on test.
    Curve { task: String, budget: usize },
    /// The base model's confidence on the task's unannotated pool.
    Confidence { task: String },
    /// CoS-Low and the comparison metrics, repeat `repeat`.
    Metrics { task: String, repeat: usize },
}

impl CellId {
    pub fn task(&self) -> &str {
        match self {
            CellId::Curve { task, .. } | CellId::Confidence { task } | CellId::Metrics { task, .. } => task,
        }
    }

    /// The cell's file under the results directory `out`.
    pub fn path(&self, out: &Path) -> PathBuf {
        out.join("cells").join(format!("{self}.json"))
    }

    /// The test predictions beside a curve cell.
    pub fn predictions_path(&self, out: &Path) -> Option<PathBuf> {
        matches!(self, CellId::Curve { .. }).then(|| out.join("cells").join(format!("{self}.predictions.jsonl")))
    }
}

impl fmt::Display for CellId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CellId::Curve { task, budget } => write!(f, "curve/{task}/n{budget}"),
            CellId::Confidence { task } => write!(f, "confidence/{task}"),
            CellId::Metrics { task, repeat } => write!(f, "metrics/{task}/r{repeat}"),
        }
    }
}

impl FromStr for CellId {
    type Err = anyhow::Error;

    fn from_str(s: &str) -> anyhow::Result<Self> {
        let parts: Vec<&str> = s.split('/').collect();
        let number = |text: &str, prefix: char| text.strip_prefix(prefix).and_then(|n| n.parse::<usize>().ok());
        Ok(match parts.as_slice() {
            ["curve", task, n] if !task.is_empty() => match number(n, 'n') {
                Some(budget) => CellId::Curve { task: task.to_string(), budget },
                None => bail!("cell `{s}`: the budget part must be n<number>, e.g. curve/{task}/n32"),
            },
            ["confidence", task] if !task.is_empty() => CellId::Confidence { task: task.to_string() },
            ["metrics", task, r] if !task.is_empty() => match number(r, 'r') {
                Some(repeat) => CellId::Metrics { task: task.to_string(), repeat },
                None => bail!("cell `{s}`: the repeat part must be r<number>, e.g. metrics/{task}/r0"),
            },
            _ => bail!(
                "cell `{s}` is not curve/<task>/n<budget>, confidence/<task> or metrics/<task>/r<repeat> \
                 (`dataeff sweep plan` lists them)"
            ),
        })
    }
}

/// Where a cell stands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Status {
    /// Its file holds the key a run would use now.
    Done,
    /// Its file holds another key (a parameter, the model, the template or the data changed).
    Stale,
    Missing,
}

/// The key address recorded in the cell file at `path`, if the file is there and readable.
pub fn recorded_address(path: &Path) -> Option<String> {
    let text = std::fs::read_to_string(path).ok()?;
    let value: serde_json::Value = serde_json::from_str(&text).ok()?;
    value.get("key_sha256")?.as_str().map(str::to_string)
}

pub fn status(path: &Path, address: &str) -> Status {
    match recorded_address(path) {
        Some(a) if a == address => Status::Done,
        Some(_) => Status::Stale,
        None if path.exists() => Status::Stale,
        None => Status::Missing,
    }
}

/// The exclusive claim of one writer on a cell while it computes it: `<cell>.json.lock`, held
/// with an advisory `flock(2)` lock and holding `host pid` for the messages of those who wait.
///
/// Why flock rather than an exclusive create: the kernel (or the NFS lock manager) drops the lock
/// when its process dies, however it dies — `scancel`'s SIGTERM then SIGKILL, a node that loses
/// power — so there is no stale lock to detect, no pid to probe on another host and no age bound
/// to guess. A lock file left behind by a dead writer is just an unlocked file that the next
/// writer locks. Should a filesystem not honour the lock (NFS mounted `nolock`), two writers may
/// compute one cell, which costs time but no correctness: a cell's bytes depend on its key alone
/// and each is written atomically, so the second rename writes the same bytes.
///
/// The file is removed, still locked, when the claim is dropped; a waiter that then gets the lock
/// of the removed file sees that the path no longer names it and tries again.
#[derive(Debug)]
pub struct CellLock {
    file: File,
    path: PathBuf,
}

/// What [`CellLock::try_acquire`] found.
#[derive(Debug)]
pub enum Claim {
    Held(CellLock),
    /// Another live writer holds the cell: its `host pid`.
    Busy(String),
}

impl CellLock {
    /// The lock file of the cell file `cell_path`: `<cell>.json.lock`.
    pub fn path_of(cell_path: &Path) -> PathBuf {
        let mut name = cell_path.file_name().unwrap_or_default().to_os_string();
        name.push(".lock");
        cell_path.with_file_name(name)
    }

    /// Claim the cell unless another live writer holds it.
    pub fn try_acquire(cell_path: &Path) -> std::io::Result<Claim> {
        Self::acquire_with(cell_path, None)
    }

    /// Claim the cell, waiting for the writer that holds it (`waiting` is told who).
    pub fn acquire(cell_path: &Path, mut waiting: impl FnMut(&str)) -> std::io::Result<CellLock> {
        match Self::acquire_with(cell_path, Some(&mut waiting))? {
            Claim::Held(lock) => Ok(lock),
            Claim::Busy(_) => unreachable!("a blocking claim waits"),
        }
    }

    fn acquire_with(cell_path: &Path, mut waiting: Option<&mut dyn FnMut(&str)>) -> std::io::Result<Claim> {
        let path = Self::path_of(cell_path);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        loop {
            let mut file = OpenOptions::new().read(true).write(true).create(true).truncate(false).open(&path)?;
            if !flock::try_lock(&file)? {
                let holder = holder(&mut file);
                let Some(tell) = waiting.as_mut() else { return Ok(Claim::Busy(holder)) };
                tell(&holder);
                flock::lock(&file)?;
            }
            // The previous holder removes the file before it unlocks: if the path now names
            // another file (or none), this lock guards nothing; start again.
            if !names_file(&path, &file) {
                continue;
            }
            file.set_len(0)?;
            file.rewind()?;
            writeln!(file, "{} {}", hostname(), std::process::id())?;
            return Ok(Claim::Held(CellLock { file, path }));
        }
    }
}

impl Drop for CellLock {
    fn drop(&mut self) {
        // Remove while still locked, then unlock by closing (the file is dropped after this).
        let _ = std::fs::remove_file(&self.path);
        flock::unlock(&self.file);
    }
}

/// `flock(2)`, exclusive, on the whole file.
#[cfg(unix)]
mod flock {
    use std::fs::File;
    use std::os::fd::AsRawFd as _;

    fn call(file: &File, operation: libc::c_int) -> std::io::Result<()> {
        loop {
            // SAFETY: flock on a descriptor this `File` owns, for the duration of the call.
            if unsafe { libc::flock(file.as_raw_fd(), operation) } == 0 {
                return Ok(());
            }
            let e = std::io::Error::last_os_error();
            if e.kind() != std::io::ErrorKind::Interrupted {
                return Err(e);
            }
        }
    }

    /// `true` when the lock was taken, `false` when another open file holds it.
    pub fn try_lock(file: &File) -> std::io::Result<bool> {
        match call(file, libc::LOCK_EX | libc::LOCK_NB) {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => Ok(false),
            Err(e) => Err(e),
        }
    }

    pub fn lock(file: &File) -> std::io::Result<()> {
        call(file, libc::LOCK_EX)
    }

    pub fn unlock(file: &File) {
        let _ = call(file, libc::LOCK_UN);
    }
}

/// Without flock, no lock: two writers of one cell then cost time, not correctness (see [`CellLock`]).
#[cfg(not(unix))]
mod flock {
    use std::fs::File;
    pub fn try_lock(_: &File) -> std::io::Result<bool> {
        Ok(true)
    }
    pub fn lock(_: &File) -> std::io::Result<()> {
        Ok(())
    }
    pub fn unlock(_: &File) {}
}

/// The `host pid` written in a held lock file (`unknown` while its writer has not written it yet).
fn holder(file: &mut File) -> String {
    let mut text = String::new();
    let _ = file.read_to_string(&mut text);
    match text.trim() {
        "" => "unknown".to_string(),
        t => t.replace(' ', " pid "),
    }
}

#[cfg(unix)]
fn names_file(path: &Path, file: &File) -> bool {
    use std::os::unix::fs::MetadataExt as _;
    match (std::fs::metadata(path), file.metadata()) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

#[cfg(not(unix))]
fn names_file(path: &Path, _file: &File) -> bool {
    path.exists()
}

/// This machine's name (for lock holders and the SLURM logs).
pub fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "localhost".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lock_excludes_a_second_writer_until_it_is_dropped_and_leaves_no_file() {
        let dir = tempfile::tempdir().unwrap();
        let cell = dir.path().join("cells/curve/t/n8.json");
        let Claim::Held(first) = CellLock::try_acquire(&cell).unwrap() else { panic!("a free cell is claimed") };
        let lock_path = CellLock::path_of(&cell);
        assert_eq!(lock_path, dir.path().join("cells/curve/t/n8.json.lock"));
        match CellLock::try_acquire(&cell).unwrap() {
            Claim::Busy(holder) => assert_eq!(holder, format!("{} pid {}", hostname(), std::process::id())),
            Claim::Held(_) => panic!("a held cell was claimed twice"),
        }
        // A waiter gets the cell once the first writer lets go.
        let waiter = {
            let cell = cell.clone();
            std::thread::spawn(move || {
                let mut told = String::new();
                let lock = CellLock::acquire(&cell, |h| told = h.to_string()).unwrap();
                (told, lock)
            })
        };
        std::thread::sleep(std::time::Duration::from_millis(100));
        drop(first);
        let (told, second) = waiter.join().unwrap();
        assert!(told.contains("pid"), "{told}");
        assert!(lock_path.exists());
        drop(second);
        assert!(!lock_path.exists(), "a released lock leaves no file");
    }

    #[test]
    fn a_lock_file_left_by_a_dead_writer_is_free() {
        let dir = tempfile::tempdir().unwrap();
        let cell = dir.path().join("cells/confidence/t.json");
        std::fs::create_dir_all(cell.parent().unwrap()).unwrap();
        std::fs::write(CellLock::path_of(&cell), "elsewhere 12345\n").unwrap();
        assert!(matches!(CellLock::try_acquire(&cell).unwrap(), Claim::Held(_)));
    }

    #[test]
    fn ids_round_trip_and_bad_ones_say_the_forms() {
        for id in ["curve/hyperbaton/n32", "confidence/web_of_lies", "metrics/mmlu/r4"] {
            assert_eq!(id.parse::<CellId>().unwrap().to_string(), id);
        }
        let err = "curve/hyperbaton/32".parse::<CellId>().unwrap_err().to_string();
        assert!(err.contains("n<number>"), "{err}");
        let err = "sweep/x".parse::<CellId>().unwrap_err().to_string();
        assert!(err.contains("curve/<task>/n<budget>"), "{err}");
    }
}
