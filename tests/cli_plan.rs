//! `dataeff fit`, `dataeff predict --coefficients/--curve` and `dataeff plan` through the binary
//! (issues 10 and 13): each test writes its own CSVs in a tempdir.

#![cfg(feature = "lm")]

use std::path::Path;
use std::process::Command;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

struct Run {
    ok: bool,
    stdout: String,
    stderr: String,
}

fn dataeff(args: &[&str]) -> Run {
    let out = Command::new(env!("CARGO_BIN_EXE_dataeff")).args(args).current_dir(ROOT).output().expect("run dataeff");
    Run { ok: out.status.success(), stdout: String::from_utf8_lossy(&out.stdout).into(), stderr: String::from_utf8_lossy(&out.stderr).into() }
}

fn ok(args: &[&str]) -> String {
    let run = dataeff(args);
    assert!(run.ok, "{args:?} failed:\n{}", run.stderr);
    run.stdout
}

fn fails(args: &[&str]) -> String {
    let run = dataeff(args);
    assert!(!run.ok, "{args:?} should fail, printed:\n{}", run.stdout);
    run.stderr
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p.display().to_string()
}

/// Five tasks on the line AUC = 0.5 · CoS-Low + 0.3 give or take 0.01, two with repeats.
fn own_curves(dir: &Path) -> (String, String) {
    let auc = write(dir, "auc.csv", "task,auc\na,0.41\nb,0.44\nc,0.56\nd,0.59\ne,0.66\n");
    let metrics = write(
        dir,
        "metrics.csv",
        "task,coslow,seed\na,0.2,1\na,0.24,2\nb,0.3,1\nc,0.5,1\nc,0.54,2\nc,0.52,3\nd,0.6,1\ne,0.7,1\n",
    );
    (auc, metrics)
}

#[test]
fn fit_writes_a_file_that_predict_and_plan_read() {
    let dir = tempfile::tempdir().unwrap();
    let (auc, metrics) = own_curves(dir.path());
    let out = dir.path().join("coefficients.csv").display().to_string();
    let summary = ok(&["fit", "--auc", &auc, "--metrics", &metrics, "--out", &out, "--name", "mine"]);
    for words in ["on 5 tasks", "slope c = 0.", "± ", "intercept I = 0.", "r = 0.9", "leave-one-task-out mean absolute AUC error: 0.0", "largest", "2 tasks with ≥ 2 repeats"] {
        assert!(summary.contains(words), "{words:?} missing from\n{summary}");
    }
    let file = std::fs::read_to_string(&out).unwrap();
    assert!(file.starts_with("family,model,slope,slope_pm,intercept,intercept_pm,n_tasks,r,loo_mae\nmine,"), "{file}");
    // The slope of the points (mean CoS-Low 0.22, 0.3, 0.52, 0.6, 0.7) is about 0.5.
    let slope: f64 = file.lines().nth(1).unwrap().split(',').nth(2).unwrap().parse().unwrap();
    assert!((slope - 0.5).abs() < 0.05, "{slope}");

    let predicted = ok(&["predict", "--coefficients", &out, "--coslow", "0.5", "--target", "0.9"]);
    assert!(predicted.contains("coefficients: mine (") && predicted.contains("target 0.9:"), "{predicted}");
    assert!(predicted.contains("the file's leave-one-task-out error"), "{predicted}");
    let planned = ok(&["plan", "--coefficients", &out, "--coslow", "0.5", "--target", "0.9", "--curve", "xp"]);
    assert!(planned.contains("next: annotate up to") && planned.contains("the file's leave-one-task-out error"), "{planned}");
}

#[test]
fn fit_errors_name_the_file_line_column_and_task() {
    let dir = tempfile::tempdir().unwrap();
    let (auc, metrics) = own_curves(dir.path());
    let out = dir.path().join("c.csv").display().to_string();
    let fit = |a: &str, m: &str| fails(&["fit", "--auc", a, "--metrics", m, "--out", &out]);

    let two = write(dir.path(), "two.csv", "task,auc\na,0.41\nb,0.44\n");
    let two_m = write(dir.path(), "two_m.csv", "task,coslow\na,0.2\nb,0.3\n");
    let err = fit(&two, &two_m);
    assert!(err.contains("2 tasks") && err.contains("at least 3"), "{err}");

    let extra = write(dir.path(), "extra.csv", "task,auc\na,0.41\nb,0.44\nc,0.56\nd,0.59\ne,0.66\nf,0.5\n");
    let err = fit(&extra, &metrics);
    assert!(err.contains("`f`") && err.contains("extra.csv but not in") && err.contains("metrics.csv"), "{err}");

    let bad = write(dir.path(), "bad.csv", "task,coslow\na,0.2\nb,0.3\nc,lots\nd,0.6\ne,0.7\n");
    let err = fit(&auc, &bad);
    assert!(err.contains("bad.csv: line 4, field `coslow`: expected a number, found `lots`"), "{err}");

    let no_column = write(dir.path(), "nocol.csv", "task,value\na,0.2\n");
    let err = fit(&no_column, &metrics);
    assert!(err.contains("nocol.csv: line 2, field `auc`: no such column"), "{err}");

    let twice = write(dir.path(), "twice.csv", "task,auc\na,0.41\na,0.42\nb,0.44\nc,0.56\n");
    let err = fit(&twice, &metrics);
    assert!(err.contains("twice.csv: line 3") && err.contains("already has an AUC on line 2"), "{err}");

    assert!(!Path::new(&out).exists(), "no file is written on an error");
}

#[test]
fn predict_takes_a_family_a_curve_and_keeps_family_as_an_alias() {
    let by_name = ok(&["predict", "--coefficients", "llama", "--coslow", "0.65", "--target", "0.9"]);
    let alias = ok(&["predict", "--family", "llama", "--coslow", "0.65", "--target", "0.9"]);
    assert_eq!(by_name, alias);
    assert!(by_name.contains("interval:") && by_name.contains("from the prediction error (80%)"), "{by_name}");
    for curve in ["template", "logistic"] {
        let text = ok(&["predict", "--coefficients", "qwen", "--coslow", "0.5", "--curve", curve, "--target", "0.7", "--budget", "500"]);
        assert!(text.contains(&format!("curve: {curve}, fitted to")) && text.contains("qwen's published curves"), "{text}");
        assert!(text.contains("target 0.7:") && text.contains("budget 500: predicted normalised score"), "{text}");
    }
    let err = fails(&["predict", "--coefficients", "llama", "--coslow", "0.5", "--curve", "cubic"]);
    assert!(err.contains("cubic") && err.contains("xp, template, logistic"), "{err}");
    let err = fails(&["predict", "--coefficients", "/nonexistent/c.csv", "--coslow", "0.5"]);
    assert!(err.contains("not a family") && err.contains("/nonexistent/c.csv"), "{err}");
}

#[test]
fn plan_proposes_from_cos_low_alone_then_from_measured_rounds() {
    let base = ["plan", "--coefficients", "llama", "--coslow", "0.65", "--target", "0.9"];
    let first = ok(&base);
    let next = |text: &str| -> f64 {
        let rest = text.split("annotate up to ").nth(1).unwrap_or_else(|| panic!("no proposal in\n{text}"));
        rest.split(' ').next().unwrap().parse().unwrap()
    };
    let n = next(&first);
    assert!((1.0..=5000.0).contains(&n), "{first}");
    // A round that falls well short of the target moves the next budget above it.
    let low = format!("{n}=0.3");
    let second = ok(&[&base[..], &["--observed", &low]].concat());
    assert!(next(&second) > n && second.contains("observed: "), "{second}");
    // A round that reaches it says stop.
    let high = format!("{n}=0.95");
    let done = ok(&[&base[..], &["--observed", &high]].concat());
    assert!(done.contains("already reached") && done.contains("stop annotating"), "{done}");
    let json = ok(&[&base[..], &["--format", "json"]].concat());
    let doc: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(doc["next_budget"].as_f64(), Some(n));
}

#[test]
fn plan_rejects_bad_input_with_the_flag_and_what_was_expected() {
    let base = ["plan", "--coefficients", "llama", "--coslow", "0.65"];
    let with = |extra: &[&str]| fails(&[&base[..], extra].concat());
    for (extra, expected) in [
        (&["--target", "0"][..], "(0, 1]"),
        (&["--target", "1.2"], "(0, 1]"),
        (&["--target", "0.9", "--observed", "400=1.3"], "above the ceiling"),
        (&["--target", "0.9", "--observed", "0=0.3"], "(0, 5000]"),
        (&["--target", "0.9", "--observed", "-20=0.3"], "(0, 5000]"),
        (&["--target", "0.9", "--observed", "400"], "BUDGET=SCORE"),
        (&["--target", "0.9", "--observed", "400=high"], "the score after `=`"),
        (&["--target", "0.9", "--confidence", "1"], "(0, 1)"),
    ] {
        let err = with(extra);
        assert!(err.contains(expected) && err.contains(extra[extra.len() - 1]), "{extra:?}:\n{err}");
    }
    let err = fails(&["plan", "--coefficients", "mistral", "--coslow", "0.9", "--target", "0.9"]);
    assert!(err.contains("outside (0, 1)"), "{err}");
}

#[test]
fn help_says_what_each_verb_reads_and_writes() {
    let fit = ok(&["fit", "--help"]);
    assert!(fit.contains("Reads:") && fit.contains("task,auc") && fit.contains("task,coslow") && fit.contains("Writes:"), "{fit}");
    let plan = ok(&["plan", "--help"]);
    assert!(plan.contains("Reads:") && plan.contains("BUDGET=SCORE") && plan.contains("normalised"), "{plan}");
    let predict = ok(&["predict", "--help"]);
    assert!(predict.contains("--coefficients") && predict.contains("--curve"), "{predict}");
}
