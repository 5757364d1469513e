//! The AUC of every published curve against the authors' own AUC file, through the library and
//! through `dataeff auc` on a directory in the authors' layout, plus the CLI's bad-input errors.

#![cfg(feature = "lm")]

use std::path::{Path, PathBuf};
use std::process::Command;

use dataeff::curve::task_auc;
use dataeff::tidy::PublishedData;
use dataeff::Family;
use serde_json::{Map, Value, json};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn published() -> PublishedData {
    PublishedData::load(&root().join("data/published")).expect("data/published loads")
}

/// Write `data/published` back out in the authors' layout (finetune_results/*.json + human_eval.json).
fn write_authors_layout(data: &PublishedData, dir: &Path) {
    std::fs::create_dir_all(dir.join("finetune_results")).unwrap();
    for ((family, task), results) in &data.scores {
        let doc: Map<String, Value> = results
            .budgets
            .iter()
            .map(|(n, metrics)| (n.to_string(), json!(metrics)))
            .collect();
        let path = dir.join(format!("finetune_results/{}_{task}_full_result_v2.json", family.prefix()));
        std::fs::write(path, serde_json::to_string_pretty(&doc).unwrap()).unwrap();
    }
    let human: Map<String, Value> =
        data.human_levels.iter().map(|(t, s)| (t.clone(), json!({"score": s, "method": "accuracy"}))).collect();
    std::fs::write(dir.join("human_eval.json"), serde_json::to_string(&human).unwrap()).unwrap();
}

fn run_auc(dir: &Path, family: &str, extra: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_dataeff"))
        .args(["auc", "--results-dir"])
        .arg(dir)
        .args(["--family", family])
        .args(extra)
        .output()
        .expect("dataeff runs")
}

#[test]
fn library_reproduces_every_published_llama_auc() {
    let data = published();
    assert_eq!(data.llama_auc.len(), 40);
    for (task, expected) in &data.llama_auc {
        let results = data.results(Family::Llama, task).unwrap_or_else(|| panic!("no scores for {task}"));
        let ours = task_auc(task, results, data.human_level(task)).unwrap();
        for (name, a, b) in [
            ("extrapolation_auc", ours.extrapolation_auc, expected.extrapolation_auc),
            ("max_acc", ours.max_acc, expected.max_acc),
            ("min_acc", ours.min_acc, expected.min_acc),
            ("human_eval", ours.human_eval, expected.human_eval),
        ] {
            assert!((a - b).abs() <= 1e-12, "{task} {name}: ours {a}, published {b}");
        }
    }
}

#[test]
fn cli_prints_the_authors_auc_res_shape_for_every_family() {
    let data = published();
    let dir = tempfile::tempdir().unwrap();
    write_authors_layout(&data, dir.path());
    for family in Family::ALL {
        let out = run_auc(dir.path(), family.prefix(), &[]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let doc: Map<String, Value> = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(doc.len(), data.tasks(family).len());
        for (task, entry) in &doc {
            let keys: Vec<&str> = entry.as_object().unwrap().keys().map(String::as_str).collect();
            assert_eq!(keys, ["max_acc", "min_acc", "extrapolation_auc", "human_eval"]);
            if family == Family::Llama {
                let expected = data.llama_auc[task].extrapolation_auc;
                let got = entry["extrapolation_auc"].as_f64().unwrap();
                assert!((got - expected).abs() <= 1e-12, "{task}: {got} vs {expected}");
            }
        }
    }
    let csv = run_auc(dir.path(), "qwen", &["--format", "csv"]);
    let text = String::from_utf8(csv.stdout).unwrap();
    assert!(text.starts_with("task,max_acc,min_acc,extrapolation_auc,human_eval\n"), "{text}");
    assert_eq!(text.lines().count(), 31);
}

/// The authors' files: `$DATAEFF_SHARED/reference/published`, by default `../shared` beside the
/// project (where CI puts it).
fn authors_files() -> PathBuf {
    let shared = std::env::var_os("DATAEFF_SHARED").map_or_else(|| root().join("../shared"), PathBuf::from);
    shared.join("reference/published")
}

/// Whether we run under CI (`$CI` set, as `.ci/run` and CI services do), where a missing input is
/// a failure, not a skip.
fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "0" && v != "false")
}

/// Check the CLI on the authors' files directly and that the transcription in data/published is
/// faithful. In CI the files must be there; elsewhere their absence is a printed skip.
#[test]
fn cli_matches_the_authors_files() {
    let shared = authors_files();
    if !shared.exists() {
        assert!(!in_ci(), "{} is missing: CI must have the authors' files (set DATAEFF_SHARED)", shared.display());
        eprintln!("SKIPPED cli_matches_the_authors_files: {} not present (set DATAEFF_SHARED)", shared.display());
        return;
    }
    let out = run_auc(&shared, "llama", &[]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let ours: Map<String, Value> = serde_json::from_slice(&out.stdout).unwrap();
    let text = std::fs::read_to_string(shared.join("auc_res/llama_auc_logscale_by_task_5000.json")).unwrap();
    let theirs: Map<String, Value> = serde_json::from_str(&text).unwrap();
    assert_eq!(ours.len(), theirs.len());
    for (task, entry) in &theirs {
        for (key, value) in entry.as_object().unwrap() {
            let (a, b) = (ours[task][key].as_f64().unwrap(), value.as_f64().unwrap());
            assert!((a - b).abs() <= 1e-12, "{task}.{key}: {a} vs {b}");
        }
    }
    let transcribed = published();
    for family in Family::ALL {
        let fam = dataeff::published::read_family(&shared, family.prefix()).unwrap();
        for (task, (_, results)) in fam.tasks {
            assert_eq!(transcribed.results(family, &task), Some(&results), "{family} {task}");
        }
    }
}

#[test]
fn cli_names_the_file_and_key_of_a_bad_value() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("finetune_results")).unwrap();
    std::fs::write(dir.path().join("human_eval.json"), "{}").unwrap();
    std::fs::write(
        dir.path().join("finetune_results/fam_t_full_result_v2.json"),
        r#"{"0": {"accuracy": 0.5}, "50": {"accuracy": "n/a"}}"#,
    )
    .unwrap();
    let out = run_auc(dir.path(), "fam", &[]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("fam_t_full_result_v2.json") && err.contains("field `50.accuracy`: invalid type: string \"n/a\""), "{err}");
    assert!(out.stdout.is_empty());
}

#[test]
fn cli_reports_a_flat_curve_by_task_name_and_can_skip_it() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("finetune_results")).unwrap();
    std::fs::write(dir.path().join("human_eval.json"), r#"{"flat": {"score": null}}"#).unwrap();
    let all: Map<String, Value> =
        ["0", "50", "100", "200", "500", "1000", "2500", "5000"].iter().map(|n| (n.to_string(), json!({"accuracy": 0.7}))).collect();
    std::fs::write(dir.path().join("finetune_results/fam_flat_full_result_v2.json"), Value::Object(all).to_string()).unwrap();
    std::fs::write(
        dir.path().join("finetune_results/fam_ok_full_result_v2.json"),
        r#"{"0": {"accuracy": 0.1}, "50": {"accuracy": 0.5}, "100": {"accuracy": 0.9}}"#,
    )
    .unwrap();
    let out = run_auc(dir.path(), "fam", &[]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("task `flat`") && err.contains("cannot normalise"), "{err}");
    let out = run_auc(dir.path(), "fam", &["--skip-invalid"]);
    assert!(out.status.success());
    let doc: Map<String, Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc.keys().collect::<Vec<_>>(), ["ok"]);
}

#[test]
fn predict_cli_gives_the_authors_worked_example() {
    let out = Command::new(env!("CARGO_BIN_EXE_dataeff"))
        .args(["predict", "--slope", "0.54", "--intercept", "0.31", "--coslow", "0.65", "--target", "0.9", "--format", "json"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!((doc["predicted_auc"].as_f64().unwrap() - 0.661).abs() < 1e-12);
    let budget = doc["targets"][0]["budget"].as_f64().unwrap();
    assert!((budget - 1028.0).abs() < 1.0, "{budget}");
}

#[test]
fn predict_cli_rejects_an_impossible_auc() {
    let out = Command::new(env!("CARGO_BIN_EXE_dataeff"))
        .args(["predict", "--family", "mistral", "--coslow", "0.9"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("outside (0, 1)"));
}

#[test]
fn cli_refuses_implausible_curves_unless_allowed_and_warns_about_dips() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("finetune_results")).unwrap();
    std::fs::write(dir.path().join("human_eval.json"), r#"{"pct": {"score": 95}, "dip": {"score": 0.9}}"#).unwrap();
    let file = |task: &str, body: &str| {
        std::fs::write(dir.path().join(format!("finetune_results/fam_{task}_full_result_v2.json")), body).unwrap();
    };
    file("pct", r#"{"0": {"accuracy": 40.5}, "50": {"accuracy": 60}, "100": {"accuracy": 93.06}}"#);
    file("dip", r#"{"0": {"accuracy": 0.2}, "50": {"accuracy": 0.6}, "100": {"accuracy": 0.4}, "200": {"accuracy": 0.7}}"#);
    let out = run_auc(dir.path(), "fam", &[]);
    assert!(!out.status.success() && out.stdout.is_empty());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("fam_pct_full_result_v2.json: task `pct`: 3 score(s) outside [0, 1]"), "{err}");
    assert!(err.contains("percentages") && err.contains("--allow-implausible"), "{err}");
    assert!(err.contains("warning:") && err.contains("task `dip`: not monotone") && err.contains("0.2000"), "{err}");

    let out = run_auc(dir.path(), "fam", &["--allow-implausible"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stderr).contains("warning:"));
    let doc: Map<String, Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc.keys().collect::<Vec<_>>(), ["dip", "pct"]);

    // A key written twice is refused, naming it.
    file("pct", r#"{"0": {"accuracy": 0.4}, "50": {"accuracy": 0.5}, "50": {"accuracy": 0.6}}"#);
    let err = String::from_utf8_lossy(&run_auc(dir.path(), "fam", &[]).stderr).into_owned();
    assert!(err.contains("fam_pct_full_result_v2.json") && err.contains("key `50` appears twice"), "{err}");
}
