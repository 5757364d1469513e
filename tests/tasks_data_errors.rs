//! Missing or damaged data files give errors that name the file and say what to run. (The fetch
//! step's sha256 check and extraction are tested in xtask/src/fetch_data.rs.)

#![cfg(feature = "lm")]

use std::path::Path;

use dataeff::tasks::cache::{bigbench_file, mmlu_file};
use dataeff::tasks::load;

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

#[test]
fn missing_file_names_it_and_says_to_fetch() {
    let dir = tempfile::tempdir().unwrap();
    for task in ["hyperbaton", "mmlu", "tracking_shuffled_objects"] {
        let msg = load(task, dir.path()).unwrap_err().to_string();
        assert!(msg.contains(&dir.path().display().to_string()), "{msg}");
        assert!(msg.contains("cargo xtask fetch-data"), "{msg}");
    }
    let msg = load("hyperbaton", dir.path()).unwrap_err().to_string();
    assert!(msg.contains("hyperbaton/task.json"), "{msg}");
}

/// PyPI no longer serves bigbench 1.0.0, so `cargo xtask fetch-data` alone cannot bring a missing
/// BIG-bench file: the error says how to supply the archive by hand. MMLU's says to fetch.
#[test]
fn a_missing_bigbench_file_says_how_to_supply_the_archive_by_hand() {
    let dir = tempfile::tempdir().unwrap();
    let msg = load("sports_understanding", dir.path()).unwrap_err().to_string();
    let downloads = dir.path().join("downloads");
    for part in [
        "sports_understanding/task.json: not found; PyPI no longer serves bigbench 1.0.0",
        "put bigbench-1.0.0.tar.gz (sha256 1bb398a5512c6d798cdebe0dfa0ac03f67f6033fa6b39c6ef71df978c7cbc5c2)",
        &format!("in {}/ and run `cargo xtask fetch-data` again", downloads.display()),
    ] {
        assert!(msg.contains(part), "{part:?} not in {msg}");
    }
    let msg = load("mmlu", dir.path()).unwrap_err().to_string();
    assert!(msg.contains("mmlu.jsonl: not found; run `cargo xtask fetch-data`") && !msg.contains("no longer serves"), "{msg}");
    assert!(!dataeff::tasks::cache::bigbench_available(dir.path()));
}

#[test]
fn damaged_json_names_file_line_and_fetch() {
    let dir = tempfile::tempdir().unwrap();
    let path = bigbench_file(dir.path(), "hyperbaton/task.json");
    write(&path, "{\n  \"examples\": [\n  oops\n]}");
    let msg = load("hyperbaton", dir.path()).unwrap_err().to_string();
    assert!(msg.contains(&path.display().to_string()) && msg.contains("line 3"), "{msg}");
    assert!(msg.contains("cargo xtask fetch-data"), "{msg}");
}

#[test]
fn wrong_field_names_example_and_field() {
    let dir = tempfile::tempdir().unwrap();
    let path = bigbench_file(dir.path(), "hyperbaton/task.json");
    write(&path, r#"{"examples": [{"input": "x", "target_scores": {"a": 1, "b": 0}}, {"inptu": "y"}]}"#);
    let msg = load("hyperbaton", dir.path()).unwrap_err().to_string();
    assert!(msg.contains("field `examples[1]`: missing field `input`"), "{msg}");

    write(&path, r#"{"examples": [{"input": "x", "target_scores": {"a": 0, "b": 0}}]}"#);
    let msg = load("hyperbaton", dir.path()).unwrap_err().to_string();
    assert!(msg.contains("field `examples[0].target_scores`: no option scores above 0"), "{msg}");

    let path = bigbench_file(dir.path(), "qa_wikidata/task.json");
    write(&path, r#"{"examples": [{"input": "x", "target": 3}]}"#);
    let msg = load("qa_wikidata", dir.path()).unwrap_err().to_string();
    assert!(msg.contains("qa_wikidata/task.json") && msg.contains("field `examples[0].target`: expected a string or a list of strings"), "{msg}");
}

#[test]
fn mmlu_rows_are_checked_and_header_copies_dropped() {
    let dir = tempfile::tempdir().unwrap();
    let path = mmlu_file(dir.path());
    let row = |q: &str, ans: &str, topic: &str| {
        format!(
            r#"{{"question": "{q}", "answer_a": "w", "answer_b": "x", "answer_c": "y", "answer_d": "z", "correct_answer": "{ans}", "topic": "{topic}"}}"#
        )
    };
    let good =
        [row("question", "answer", "topic"), row("q1", "C", "anatomy"), row("q2", "A", "world religions")].join("\n");
    write(&path, &good);
    let task = load("mmlu", dir.path()).unwrap();
    assert_eq!(task.examples.len(), 1, "header copy and excluded subject dropped");
    assert_eq!(task.examples[0].target(), "2");
    assert!(task.render(&task.examples[0]).contains("Subject: anatomy"));

    write(&path, &[row("q1", "C", "anatomy"), row("q2", "E", "anatomy")].join("\n"));
    let msg = load("mmlu", dir.path()).unwrap_err().to_string();
    assert!(msg.contains("mmlu.jsonl") && msg.contains("line 2, field `correct_answer`"), "{msg}");
}
