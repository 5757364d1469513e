//! The practitioner's verbs through the binary on a JSONL pool the test writes: `select` picks k
//! low-confidence prompts (resumably, fields passed through), `coslow` measures them; bad input
//! is an error naming the file, the line and the field. A tiny random checkpoint keeps it quick.

#![cfg(feature = "lm")]

mod common;

use std::path::Path;
use std::process::Command;

use common::{TINY_TEMPLATE, tiny_checkpoint_with};

fn dataeff(args: &[&str], cache: &Path) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_dataeff")).args(args).env("DATAEFF_CACHE", cache).output().expect("run dataeff");
    (out.status.success(), String::from_utf8(out.stdout).unwrap(), String::from_utf8(out.stderr).unwrap())
}

fn write_pool(path: &Path, n: usize) {
    let lines: Vec<String> = (0..n)
        .map(|i| serde_json::json!({ "prompt": format!("Is {i} an even number? Answer yes or no."), "id": i }).to_string())
        .collect();
    std::fs::write(path, lines.join("\n") + "\n").unwrap();
}

#[test]
fn select_then_coslow_on_a_users_pool() {
    let tmp = tempfile::tempdir().unwrap();
    let model = tiny_checkpoint_with(Some(TINY_TEMPLATE), 512, 7);
    let m = model.path().to_str().unwrap();
    let pool = tmp.path().join("pool.jsonl");
    write_pool(&pool, 40);
    let out = tmp.path().join("to_annotate.jsonl");
    let args = ["select", "--model", m, "--pool", pool.to_str().unwrap(), "--k", "3", "--out", out.to_str().unwrap(), "--max-new-tokens", "4"];
    let (ok, stdout, stderr) = dataeff(&args, tmp.path());
    assert!(ok, "{stderr}");
    assert!(stdout.contains("selected 3 prompts"), "{stdout}");
    let first = std::fs::read_to_string(&out).unwrap();
    let selected: Vec<serde_json::Value> = first.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(selected.len(), 3);
    for s in &selected {
        assert!(s["prompt"].as_str().unwrap().starts_with("Is "));
        assert!(s["id"].is_u64() && s["pool_line"].is_u64(), "fields pass through: {s}");
        assert!((0.0..=1.0).contains(&s["confidence"].as_f64().unwrap()));
    }
    // The lowest 10% of 40 is 4 prompts: each selected one is among them.
    let cache = std::fs::read_to_string(format!("{}.confidence.jsonl", out.display())).unwrap();
    assert_eq!(cache.lines().count(), 41, "a header and one line per prompt");

    // A rerun reads the confidences back (a cut last line is recomputed) and selects the same.
    let kept: Vec<&str> = cache.lines().collect();
    std::fs::write(format!("{}.confidence.jsonl", out.display()), kept[..30].join("\n") + "\n{\"prompt_sha").unwrap();
    let (ok, _, stderr) = dataeff(&args, tmp.path());
    assert!(ok, "{stderr}");
    assert_eq!(std::fs::read_to_string(&out).unwrap(), first);

    // Annotate and measure.
    let annotated = tmp.path().join("annotated.jsonl");
    let lines: Vec<String> = selected
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let mut s = s.clone();
            s["answer"] = if i % 2 == 0 { "yes" } else { "no" }.into();
            s.to_string()
        })
        .collect();
    std::fs::write(&annotated, lines.join("\n")).unwrap();
    let coslow = ["coslow", "--model", m, "--annotated", annotated.to_str().unwrap(), "--repeats", "2"];
    let (ok, stdout, stderr) = dataeff(&coslow, tmp.path());
    assert!(ok, "{stderr}");
    let value: f64 = stdout.lines().find_map(|l| l.strip_prefix("coslow ")).expect("a `coslow <value>` line").parse().unwrap();
    assert!((-1.0..=1.0).contains(&value), "{stdout}");
    let (ok, json, _) = dataeff(&[&coslow[..], &["--json"]].concat(), tmp.path());
    assert!(ok);
    let record: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(record["repeats"].as_array().unwrap().len(), 2);
    assert!((record["coslow"].as_f64().unwrap() - value).abs() < 1e-6);
    assert_ne!(record["repeats"][0]["coslow"], record["repeats"][1]["coslow"], "each repeat seeds LoRA's A anew");
}

/// The whole workflow on three tasks of one's own: select → annotate → coslow per task, then
/// `fit` a line to the tasks' (given) AUCs and `predict` a new task's budget from it.
#[test]
fn select_coslow_fit_predict_chain_on_three_pools() {
    let tmp = tempfile::tempdir().unwrap();
    let model = tiny_checkpoint_with(Some(TINY_TEMPLATE), 512, 7);
    let m = model.path().to_str().unwrap();
    let mut metrics = String::from("task,coslow\n");
    let mut task_means = Vec::new();
    for (t, task) in ["parity", "colour", "size"].iter().enumerate() {
        let pool = tmp.path().join(format!("{task}.jsonl"));
        let lines: Vec<String> = (0..30)
            .map(|i| serde_json::json!({ "prompt": format!("Task {task}, item {i}: answer in one word.") }).to_string())
            .collect();
        std::fs::write(&pool, lines.join("\n")).unwrap();
        let selected = tmp.path().join(format!("{task}.select.jsonl"));
        let (ok, _, stderr) = dataeff(
            &["select", "--model", m, "--pool", pool.to_str().unwrap(), "--k", "3", "--out", selected.to_str().unwrap(), "--max-new-tokens", "3"],
            tmp.path(),
        );
        assert!(ok, "{stderr}");
        let annotated: Vec<String> = std::fs::read_to_string(&selected)
            .unwrap()
            .lines()
            .enumerate()
            .map(|(i, l)| {
                let mut v: serde_json::Value = serde_json::from_str(l).unwrap();
                v["answer"] = ["odd", "even", "red", "blue", "big", "small"][(2 * t + i) % 6].into();
                v.to_string()
            })
            .collect();
        let annotated_path = tmp.path().join(format!("{task}.annotated.jsonl"));
        std::fs::write(&annotated_path, annotated.join("\n")).unwrap();
        let (ok, json, stderr) =
            dataeff(&["coslow", "--model", m, "--annotated", annotated_path.to_str().unwrap(), "--repeats", "2", "--json"], tmp.path());
        assert!(ok, "{stderr}");
        let record: serde_json::Value = serde_json::from_str(&json).unwrap();
        task_means.push(record["coslow"].as_f64().unwrap());
        for r in record["repeats"].as_array().unwrap() {
            metrics += &format!("{task},{}\n", r["coslow"].as_f64().unwrap());
        }
    }
    let metrics_path = tmp.path().join("metrics.csv");
    std::fs::write(&metrics_path, metrics).unwrap();
    let auc_path = tmp.path().join("auc.csv");
    std::fs::write(&auc_path, "task,auc\nparity,0.42\ncolour,0.55\nsize,0.61\n").unwrap();
    let coefficients = tmp.path().join("coefficients.csv");
    let (ok, stdout, stderr) = dataeff(
        &["fit", "--auc", auc_path.to_str().unwrap(), "--metrics", metrics_path.to_str().unwrap(), "--out", coefficients.to_str().unwrap()],
        tmp.path(),
    );
    assert!(ok, "{stderr}");
    assert!(stdout.contains("3 tasks") || stdout.contains("n = 3") || stdout.contains("tasks: 3"), "{stdout}");
    // At the tasks' mean CoS-Low an OLS line predicts their mean AUC (0.5267), whatever its slope.
    let mean_coslow = format!("{:.12}", task_means.iter().sum::<f64>() / 3.0);
    let (ok, stdout, stderr) =
        dataeff(&["predict", "--coefficients", coefficients.to_str().unwrap(), "--coslow", &mean_coslow, "--target", "0.9"], tmp.path());
    assert!(ok, "{stderr}");
    assert!(stdout.contains("predicted AUC: 0.5267"), "{stdout}");
    assert!(stdout.contains("target 0.9"), "{stdout}");
}

#[test]
fn bad_pools_and_annotations_are_named_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let model = tiny_checkpoint_with(Some(TINY_TEMPLATE), 512, 7);
    let m = model.path().to_str().unwrap();
    let file = tmp.path().join("bad.jsonl");
    let out = tmp.path().join("out.jsonl");
    let select = |k: &str| {
        dataeff(&["select", "--model", m, "--pool", file.to_str().unwrap(), "--k", k, "--out", out.to_str().unwrap(), "--max-new-tokens", "2"], tmp.path())
    };
    let coslow = || dataeff(&["coslow", "--model", m, "--annotated", file.to_str().unwrap(), "--repeats", "1"], tmp.path());

    std::fs::write(&file, "{\"prompt\": \"a\"}\n{\"prompt\": 5}\n").unwrap();
    let (ok, _, stderr) = select("2");
    assert!(!ok && stderr.contains("bad.jsonl:2: field `prompt` must be a string"), "{stderr}");

    write_pool(&file, 12);
    let (ok, _, stderr) = select("3");
    assert!(!ok && stderr.contains("fewer than --k 3") && stderr.contains("at least 30 prompts"), "{stderr}");

    std::fs::write(&file, "{\"prompt\": \"a\", \"answer\": \"yes\"}\n{\"prompt\": \"b\", \"answer\": \"\"}\n").unwrap();
    let (ok, _, stderr) = coslow();
    assert!(!ok && stderr.contains("bad.jsonl:2: field `answer` is empty"), "{stderr}");

    std::fs::write(&file, "{\"prompt\": \"a\", \"answer\": \"yes\"}\n{\"prompt\": \"b\"}\n").unwrap();
    let (ok, _, stderr) = coslow();
    assert!(!ok && stderr.contains("bad.jsonl:2: field `answer` is missing"), "{stderr}");

    // A prompt longer than the context of 512 positions.
    let long = "word ".repeat(200);
    std::fs::write(&file, format!("{{\"prompt\": \"a\", \"answer\": \"yes\"}}\n{{\"prompt\": \"{long}\", \"answer\": \"no\"}}\n")).unwrap();
    let (ok, _, stderr) = coslow();
    assert!(!ok && stderr.contains("bad.jsonl:2") && stderr.contains("context"), "{stderr}");
}

#[test]
fn help_says_what_each_verb_reads_and_writes() {
    let tmp = tempfile::tempdir().unwrap();
    for verb in ["select", "coslow", "sweep"] {
        let (ok, stdout, _) = dataeff(&[verb, "--help"], tmp.path());
        assert!(ok, "{verb}");
        assert!(stdout.contains("Reads") || stdout.contains("profile"), "{verb}: {stdout}");
    }
}
