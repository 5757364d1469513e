//! `cargo xtask` ends as `dataeff` does (`dataeff::exit`): an ordinary error is one line, even with
//! `RUST_BACKTRACE=1`, and an argument that is not UTF-8 is named.

use std::process::Command;

fn xtask(args: &[&str], env: &[(&str, &str)]) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(args)
        .env_remove("DATAEFF_BACKTRACE")
        .env_remove("RUST_LIB_BACKTRACE")
        .envs(env.iter().copied())
        .output()
        .expect("run xtask");
    (out.status.success(), String::from_utf8_lossy(&out.stderr).into_owned())
}

#[test]
fn an_ordinary_error_is_one_line_without_a_backtrace() {
    let (ok, err) = xtask(&["figure", "no_such_experiment"], &[("RUST_BACKTRACE", "1")]);
    assert!(!ok);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.starts_with("error: no experiment `no_such_experiment`: expected one of") && err.contains("curves"), "{err}");
    let (_, err) = xtask(&["figure", "no_such_experiment"], &[("DATAEFF_BACKTRACE", "1")]);
    assert!(err.contains("backtrace:"), "{err}");
}

#[cfg(unix)]
#[test]
fn an_argument_that_is_not_utf8_is_named() {
    use std::os::unix::ffi::OsStrExt;
    let out = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(["figure"])
        .arg(std::ffi::OsStr::from_bytes(b"cur\xffves"))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("argument 2 is not valid UTF-8: \"cur\\xFFves\""), "{err}");
}
