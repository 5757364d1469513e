//! How our command-line programs (`dataeff`, `cargo xtask`) end: success, a quiet success when
//! the reader of stdout went away (`| head`), or one error line on stderr.
//!
//! An error is printed as its chain of causes on one line, each cause once: a context that
//! already quotes its source (`{path}: cannot read: {source}`) does not get the OS text twice.
//! No backtrace is printed unless `DATAEFF_BACKTRACE=1` asks for one: `RUST_BACKTRACE=1` alone
//! is for panics, which are our bugs.

use std::ffi::OsString;
use std::process::ExitCode;

/// The environment variable that asks for a backtrace with every error.
pub const BACKTRACE_VAR: &str = "DATAEFF_BACKTRACE";

/// The standard library's switch for `std::backtrace::Backtrace::capture` (which anyhow and
/// candle call); it takes precedence over `RUST_BACKTRACE`.
const LIBRARY_BACKTRACE_VAR: &str = "RUST_LIB_BACKTRACE";

fn backtrace_requested() -> bool {
    std::env::var_os(BACKTRACE_VAR).is_some_and(|v| !v.is_empty() && v != "0")
}

/// Call first thing in `main`, before any thread exists: when `DATAEFF_BACKTRACE` asks for
/// backtraces, have errors capture one where they are raised (anyhow captures only when
/// `RUST_LIB_BACKTRACE` or `RUST_BACKTRACE` say so).
pub fn capture_backtraces_if_requested() {
    if backtrace_requested() && std::env::var_os(LIBRARY_BACKTRACE_VAR).is_none() {
        // SAFETY: called at the start of `main`, before any other thread exists.
        unsafe { std::env::set_var(LIBRARY_BACKTRACE_VAR, "1") };
    }
}

/// [`capture_backtraces_if_requested`], and otherwise no library backtraces at all, whatever
/// `RUST_BACKTRACE` says (panics keep theirs): candle captures one for its errors and prints it
/// inside the error's text, so a bad GGUF header under `RUST_BACKTRACE=1` was 26 lines of stack.
/// An explicit `RUST_LIB_BACKTRACE` is left as the user set it. For a program that runs no
/// other program (the variable would reach its children).
pub fn library_backtraces_only_if_requested() {
    if std::env::var_os(LIBRARY_BACKTRACE_VAR).is_none() {
        let capture = if backtrace_requested() { "1" } else { "0" };
        // SAFETY: called at the start of `main`, before any other thread exists.
        unsafe { std::env::set_var(LIBRARY_BACKTRACE_VAR, capture) };
    }
}

/// The exit of a program whose work returned `result`.
pub fn finish(result: anyhow::Result<()>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        // The reader of our output has everything it wanted: not an error.
        Err(e) if is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {}", message(&e));
            if backtrace_requested() {
                eprintln!("\nbacktrace:\n{}", e.backtrace());
            }
            ExitCode::FAILURE
        }
    }
}

/// Whether `error` comes from writing to a pipe whose reader has closed it.
pub fn is_broken_pipe(error: &anyhow::Error) -> bool {
    error
        .chain()
        .any(|cause| cause.downcast_ref::<std::io::Error>().is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe))
}

/// The error and its causes on one line, `: `-separated, leaving out a cause whose text the line
/// already holds.
pub fn message(error: &anyhow::Error) -> String {
    let mut line = String::new();
    for cause in error.chain() {
        let text = cause.to_string();
        if text.is_empty() || line.contains(&text) {
            continue;
        }
        if !line.is_empty() {
            line.push_str(": ");
        }
        line.push_str(&text);
    }
    line
}

/// The first command-line argument (after the program name) that is not valid UTF-8, named by
/// its position and the flag it belongs to: the message for clap's nameless "invalid UTF-8".
pub fn non_utf8_argument(args: impl IntoIterator<Item = OsString>) -> Option<String> {
    let args: Vec<OsString> = args.into_iter().collect();
    let (index, bad) = args.iter().enumerate().skip(1).find(|(_, a)| a.to_str().is_none())?;
    let lossy = bad.to_string_lossy();
    let flag = match lossy.split_once('=') {
        Some((flag, _)) if flag.starts_with('-') => Some(format!("`{flag}=`")),
        _ => args[index - 1].to_str().filter(|a| index > 1 && a.starts_with('-')).map(|a| format!("after `{a}`")),
    };
    let place = flag.map_or(format!("argument {index}"), |f| format!("argument {index} ({f})"));
    Some(format!("{place} is not valid UTF-8: {bad:?} (arguments are read as UTF-8 text)"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cause_already_quoted_by_its_context_is_not_repeated() {
        let os = std::io::Error::new(std::io::ErrorKind::NotFound, "No such file or directory (os error 2)");
        let e = anyhow::Error::new(os).context("x.json: cannot read: No such file or directory (os error 2)");
        assert_eq!(message(&e), "x.json: cannot read: No such file or directory (os error 2)");
        let e = anyhow::anyhow!("inner").context("middle").context("outer");
        assert_eq!(message(&e), "outer: middle: inner");
    }

    #[test]
    fn broken_pipe_is_found_under_contexts() {
        let e = anyhow::Error::new(std::io::Error::from(std::io::ErrorKind::BrokenPipe)).context("printing");
        assert!(is_broken_pipe(&e));
        assert!(!is_broken_pipe(&anyhow::anyhow!("broken pipe")));
    }

    #[cfg(unix)]
    #[test]
    fn a_non_utf8_argument_is_named_by_its_flag_or_position() {
        use std::os::unix::ffi::OsStringExt;
        let bad = || OsString::from_vec(b"caf\xe9".to_vec());
        let args = |v: Vec<OsString>| non_utf8_argument(v).unwrap();
        let m = args(vec!["dataeff".into(), "score".into(), "--prompt".into(), bad()]);
        assert!(m.starts_with("argument 3 (after `--prompt`) is not valid UTF-8: \"caf\\xE9\""), "{m}");
        let m = args(vec!["dataeff".into(), OsString::from_vec(b"--prompt=\xff".to_vec())]);
        assert!(m.starts_with("argument 1 (`--prompt=`) is not"), "{m}");
        let m = args(vec!["dataeff".into(), bad()]);
        assert!(m.starts_with("argument 1 is not"), "{m}");
        assert_eq!(non_utf8_argument(vec![OsString::from("dataeff"), "tasks".into()]), None);
    }
}
