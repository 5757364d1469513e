//! `dataeff tasks list|show` end to end (needs `cargo xtask fetch-data` for the shipped tasks; the
//! BIG-bench rows are checked only where its files are in the cache, since PyPI no longer serves
//! them).

#![cfg(feature = "lm")]

mod common;

use std::process::Command;

use dataeff::tasks::{CATALOGUE, Origin};

fn dataeff(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_dataeff"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("run dataeff");
    (out.status.success(), String::from_utf8(out.stdout).unwrap(), String::from_utf8(out.stderr).unwrap())
}

/// The table's task rows.
fn rows(out: &str) -> Vec<&str> {
    out.lines().skip(1).take_while(|l| !l.trim().is_empty()).collect()
}

fn row<'a>(rows: &[&'a str], task: &str) -> &'a str {
    rows.iter().find(|r| r.starts_with(&format!("{task} "))).unwrap_or_else(|| panic!("no {task} row in {rows:#?}"))
}

fn is_bigbench(task: &str) -> bool {
    CATALOGUE.iter().any(|s| s.name == task && matches!(s.origin, Origin::BigBench(..)))
}

#[test]
fn list_shows_at_least_thirteen_tasks_with_sizes_and_published_aucs() {
    let (ok, out, err) = dataeff(&["tasks", "list"]);
    assert!(ok, "{err}");
    let rows = rows(&out);
    assert!(rows.len() >= 13, "{out}");
    // Only BIG-bench's tasks may be unavailable (PyPI no longer serves it); MMLU is fetched.
    for r in rows.iter().filter(|r| r.contains("unavailable")) {
        let task = r.split_whitespace().next().unwrap();
        assert!(is_bigbench(task), "run `cargo xtask fetch-data` first:\n{out}\n{err}");
    }
    let web = row(&rows, "web_of_lies");
    let cols: Vec<&str> = web.split_whitespace().collect();
    // name, source ("generator (ours)"), n, dups, train, unannotated, test.
    assert_eq!(&cols[1..8], ["generator", "(ours)", "8000", "0", "5000", "2500", "500"], "{web}");
    // The paper's Llama AUC for web_of_lies, as transcribed (data/published/llama_auc.csv: 0.3375...).
    assert!(web.contains("0.338"), "{web}");
    assert!(!row(&rows, "mmlu").contains("unavailable"), "{out}\n{err}");
}

#[test]
fn list_shows_the_bigbench_sizes() {
    if !common::bigbench_or_skip("list_shows_the_bigbench_sizes") {
        return;
    }
    let (ok, out, err) = dataeff(&["tasks", "list"]);
    assert!(ok, "{err}");
    let rows = rows(&out);
    assert!(!out.contains("unavailable"), "{out}\n{err}");
    let hyperbaton = row(&rows, "hyperbaton");
    let cols: Vec<&str> = hyperbaton.split_whitespace().collect();
    assert_eq!(&cols[2..7], ["50000", "0", "5000", "2500", "500"], "{hyperbaton}");
    // The paper's Llama AUC for hyperbaton, as transcribed (data/published/llama_auc.csv: 0.6037...).
    assert!(hyperbaton.contains("0.604"), "{hyperbaton}");
    assert!(row(&rows, "temporal_sequences").contains("train pool < 5000"), "{out}");
}

/// With nothing in the cache, every shipped task is listed as unavailable, with its published
/// AUCs, and stderr says once per source what to do: for BIG-bench, which PyPI no longer serves,
/// put the archive in `<cache>/downloads/` by hand; for MMLU, run `cargo xtask fetch-data`.
#[test]
fn list_shows_tasks_without_data_as_unavailable_with_the_remedy() {
    let cache = tempfile::tempdir().unwrap();
    let (ok, out, err) = dataeff(&["tasks", "list", "--cache", cache.path().to_str().unwrap()]);
    assert!(ok, "{err}");
    let rows = rows(&out);
    assert_eq!(rows.len(), CATALOGUE.len(), "{out}");
    for spec in CATALOGUE {
        let r = row(&rows, spec.name);
        let generated = matches!(spec.origin, Origin::Generated);
        assert_eq!(!r.contains("unavailable"), generated, "{r}");
    }
    assert!(row(&rows, "hyperbaton").contains("unavailable: BIG-bench data not in the cache"), "{out}");
    assert!(row(&rows, "hyperbaton").contains("0.604"), "{out}");
    let lines: Vec<&str> = err.lines().filter(|l| l.starts_with("unavailable")).collect();
    assert_eq!(lines.len(), 2, "one line per source:\n{err}");
    let bigbench = lines[0];
    let downloads = cache.path().join("downloads");
    for part in [
        "unavailable, 10 tasks (temporal_sequences, hyperbaton, ",
        "PyPI no longer serves bigbench 1.0.0",
        "put bigbench-1.0.0.tar.gz (sha256 1bb398a5512c6d798cdebe0dfa0ac03f67f6033fa6b39c6ef71df978c7cbc5c2) in ",
        &format!("{}/ and run `cargo xtask fetch-data` again", downloads.display()),
    ] {
        assert!(bigbench.contains(part), "{part:?} not in {bigbench}");
    }
    assert!(lines[1].starts_with("unavailable, 1 task (mmlu)") && lines[1].contains("run `cargo xtask fetch-data`"), "{err}");
    assert!(!lines[1].contains("no longer serves"), "{err}");
}

#[test]
fn show_prints_rendered_prompts_with_answers() {
    let (ok, out, err) = dataeff(&["tasks", "show", "web_of_lies", "--split", "test", "--n", "2"]);
    assert!(ok, "{err}");
    assert_eq!(out.matches("--- Test example").count(), 2, "{out}");
    assert_eq!(out.matches("\n>>> ").count(), 2, "{out}");
    assert!(out.contains("Reply with Yes or No only."), "{out}");
    assert!(out.contains("test 500"), "{out}");

    let (ok, _, err) = dataeff(&["tasks", "show", "no_such_task"]);
    assert!(!ok);
    assert!(err.contains("unknown task `no_such_task`") && err.contains("dataeff tasks list"), "{err}");
}
