//! The `dataeff` binary under hostile use: a reader that closes the pipe early, negative and
//! out-of-range numbers, backtraces, arguments that are not UTF-8, runs from outside the
//! repository, and the `predict` calls REPORT.md quotes (issue 14).

#![cfg(feature = "lm")]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, ExitStatus, Stdio};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

struct Run {
    ok: bool,
    stdout: String,
    stderr: String,
}

fn dataeff_in(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_dataeff"));
    cmd.args(args).current_dir(dir).env_remove("RUST_BACKTRACE").env_remove("RUST_LIB_BACKTRACE").env_remove("DATAEFF_BACKTRACE");
    cmd.envs(env.iter().copied());
    let out = cmd.output().expect("run dataeff");
    Run { ok: out.status.success(), stdout: String::from_utf8_lossy(&out.stdout).into(), stderr: String::from_utf8_lossy(&out.stderr).into() }
}

fn dataeff(args: &[&str]) -> Run {
    dataeff_in(Path::new(ROOT), args, &[])
}

/// A failed run's stderr.
fn fails(args: &[&str]) -> String {
    let run = dataeff(args);
    assert!(!run.ok, "{args:?} should fail, printed:\n{}", run.stdout);
    run.stderr
}

/// Exit 0, or death by SIGPIPE (the shell's 141), as a reader like `head` expects.
fn ended_quietly(status: ExitStatus) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if status.signal() == Some(13) {
            return true;
        }
    }
    status.success() || status.code() == Some(141)
}

/// Run `dataeff args` with stdout to a pipe that is closed after its first line, as `| head -1` does.
fn first_line_then_close(args: &[&str]) -> (String, ExitStatus, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_dataeff"))
        .args(args)
        .current_dir(ROOT)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn dataeff");
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut first).unwrap();
    // The reader is dropped here: the pipe's read end is closed.
    let out = child.wait_with_output().unwrap();
    (first, out.status, String::from_utf8_lossy(&out.stderr).into())
}

#[test]
fn a_closed_stdout_ends_every_verb_quietly() {
    // Each of these prints far more than a pipe holds (64 KiB), so it must still be writing when
    // the pipe closes.
    let targets: Vec<String> = (1..=20_000).map(|i| format!("--target={}", f64::from(i) / 20_000.0)).collect();
    let mut predict = vec!["predict", "--family", "llama", "--coslow", "0.5"];
    predict.extend(targets.iter().map(String::as_str));
    let show = ["tasks", "show", "web_of_lies", "--split", "train", "--n", "5000"];
    // These print little but slowly (a task or a model is loaded between lines), as in the issue.
    let list = ["tasks", "list"];
    let model_info = ["model-info", "--model", "smollm2-135m-instruct"];
    for args in [&predict[..], &show, &list, &model_info] {
        let (first, status, stderr) = first_line_then_close(args);
        assert!(!first.is_empty(), "{:?}: no first line; stderr:\n{stderr}", &args[..2]);
        assert!(ended_quietly(status), "{:?}: {status}\n{stderr}", &args[..2]);
        assert!(!stderr.contains("panicked") && !stderr.contains("Broken pipe"), "{:?}:\n{stderr}", &args[..2]);
    }
}

#[test]
fn negative_numbers_are_values_in_the_space_form() {
    let run = dataeff(&["predict", "--family", "llama", "--coslow", "-0.1", "--target", "0.9"]);
    assert!(run.ok, "{}", run.stderr);
    // 0.545 · (−0.1) + 0.310 = 0.2555.
    assert!(run.stdout.contains("predicted AUC: 0.2555"), "{}", run.stdout);
    let run = dataeff(&["predict", "--slope", "0.6", "--intercept", "-0.05", "--coslow", "0.7"]);
    assert!(run.ok, "{}", run.stderr);
    assert!(run.stdout.contains("AUC' = 0.6 * CoS-Low + -0.05") && run.stdout.contains("predicted AUC: 0.3700"), "{}", run.stdout);
}

#[test]
fn out_of_range_flags_are_named_with_their_value_and_range() {
    let llama = ["predict", "--family", "llama"];
    let with = |extra: &[&'static str]| [&llama[..], extra].concat();
    for (extra, flag, value, expected) in [
        (&["--coslow", "2"][..], "--coslow", "2", "[-1, 1]"),
        (&["--coslow", "-1.5"], "--coslow", "-1.5", "[-1, 1]"),
        (&["--coslow", "NaN"], "--coslow", "NaN", "finite"),
        (&["--coslow", "0.5", "--target", "1.5"], "--target", "1.5", "(0, 1]"),
        (&["--coslow", "0.5", "--target", "-0.2"], "--target", "-0.2", "(0, 1]"),
        (&["--coslow", "0.5", "--target", "0"], "--target", "0", "(0, 1]"),
        (&["--coslow", "0.5", "--budget", "0"], "--budget", "0", "[1, 5000]"),
        (&["--coslow", "0.5", "--budget", "-50"], "--budget", "-50", "[1, 5000]"),
        (&["--coslow", "0.5", "--budget", "inf"], "--budget", "inf", "finite"),
    ] {
        let err = fails(&with(extra));
        assert!(err.contains(flag) && err.contains(&format!("'{value}'")) && err.contains(expected), "{extra:?}:\n{err}");
    }
    let err = fails(&["predict", "--slope", "1e400", "--intercept", "0.3", "--coslow", "0.5"]);
    assert!(err.contains("--slope") && err.contains("finite"), "{err}");
    let err = fails(&["tasks", "show", "web_of_lies", "--n", "-1"]);
    assert!(err.contains("'-1' for '--n") && err.contains("whole number, 0 or more"), "{err}");

    // A line that leaves (0, 1) names the flags that produced the AUC.
    let err = fails(&["predict", "--family", "llama", "--coslow", "-0.9"]);
    assert!(err.contains("--coslow -0.9") && err.contains("--family llama") && err.contains("outside (0, 1)"), "{err}");
    let err = fails(&["predict", "--slope", "2", "--intercept", "0.5", "--coslow", "0.5"]);
    assert!(err.contains("--slope 2") && err.contains("--intercept 0.5") && err.contains("--coslow 0.5"), "{err}");
    assert!(err.contains("1.5"), "the AUC the flags gave: {err}");
}

#[test]
fn ordinary_errors_are_one_line_without_backtrace_or_repeated_os_text() {
    let args = ["auc", "--results-dir", "/nonexistent/dataeff-results", "--family", "llama"];
    let run = dataeff_in(Path::new(ROOT), &args, &[("RUST_BACKTRACE", "1")]);
    assert!(!run.ok && run.stdout.is_empty());
    assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
    assert!(run.stderr.starts_with("error: ") && run.stderr.contains("/nonexistent/dataeff-results"), "{}", run.stderr);
    assert_eq!(run.stderr.matches("No such file or directory").count(), 1, "{}", run.stderr);
    // Asked for, the backtrace comes.
    let run = dataeff_in(Path::new(ROOT), &args, &[("DATAEFF_BACKTRACE", "1")]);
    assert!(run.stderr.contains("backtrace:") && run.stderr.lines().count() > 3, "{}", run.stderr);

    // candle writes the backtrace it captured into its error's text: a GGUF of an unknown version.
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("v99.gguf");
    std::fs::write(&model, [&b"GGUF"[..], &99u32.to_le_bytes(), &[0; 16]].concat()).unwrap();
    let run = dataeff_in(Path::new(ROOT), &["model-info", "--model", model.to_str().unwrap()], &[("RUST_BACKTRACE", "1")]);
    assert!(!run.ok);
    assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
    assert!(run.stderr.contains("v99.gguf") && run.stderr.contains("version"), "{}", run.stderr);
}

#[cfg(unix)]
#[test]
fn an_argument_that_is_not_utf8_is_named() {
    use std::os::unix::ffi::OsStrExt;
    let bad = std::ffi::OsStr::from_bytes(b"ll\xe9ma");
    let out = Command::new(env!("CARGO_BIN_EXE_dataeff"))
        .args(["predict", "--coslow", "0.5", "--family"])
        .arg(bad)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("argument 5 (after `--family`) is not valid UTF-8") && err.contains("ll\\xE9ma"), "{err}");
}

#[test]
fn tasks_list_finds_the_published_aucs_from_any_directory() {
    let elsewhere = tempfile::tempdir().unwrap();
    let run = dataeff_in(elsewhere.path(), &["tasks", "list"], &[]);
    assert!(run.ok, "{}", run.stderr);
    assert!(!run.stderr.contains("no published AUCs"), "{}", run.stderr);
    // web_of_lies' Llama AUC, as transcribed (data/published/llama_auc.csv: 0.3375...); a generated
    // task, so its row is complete wherever the BIG-bench files are missing.
    let web = run.stdout.lines().find(|l| l.starts_with("web_of_lies ")).expect("web_of_lies row");
    assert!(web.contains("0.338"), "{web}");
    assert!(run.stdout.contains(&format!("from {ROOT}/data/published")), "{}", run.stdout);

    // A directory given explicitly that does not hold them is an error, not a note.
    let err = fails(&["tasks", "list", "--published", "/nonexistent/published"]);
    assert!(err.contains("/nonexistent/published") && err.contains("--published"), "{err}");
}

/// Every `dataeff predict …` call that paper_figures/REPORT.md quotes with "gives n = N" is in the
/// README, and the binary prints that N for it.
#[test]
fn the_predict_calls_the_report_quotes_are_the_readmes_and_print_its_numbers() {
    let report = std::fs::read_to_string(Path::new(ROOT).join("paper_figures/REPORT.md")).unwrap();
    let readme = std::fs::read_to_string(Path::new(ROOT).join("README.md")).unwrap();
    let mut calls = 0;
    for piece in report.split("`dataeff predict ").skip(1) {
        let (args, rest) = piece.split_once('`').expect("a closing backtick");
        let Some(n) = rest.strip_prefix(" gives n = ") else { continue };
        let n = n.split(|c: char| !(c.is_ascii_digit() || c == '.')).next().unwrap().trim_end_matches('.');
        assert!(readme.contains(&format!("-- predict {args}\n")), "README lacks `predict {args}`");
        let argv: Vec<&str> = std::iter::once("predict").chain(args.split(' ')).collect();
        let run = dataeff(&argv);
        assert!(run.ok, "{}", run.stderr);
        assert!(run.stdout.contains(&format!("(n = {n})")), "`predict {args}` printed\n{}\nthe report says n = {n}", run.stdout);
        calls += 1;
    }
    assert!(calls >= 2, "REPORT.md quotes the worked example on both lines: found {calls} calls");
}
