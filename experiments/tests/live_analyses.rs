//! The five live analyses on synthetic live results written (with serde, in `dataeff::live`'s
//! format) into a temporary directory, with the published data from the repository's `data/`:
//! a plausible fixture (7 tasks, 6 budgets, 3 repeats, one skipped budget, four tasks named like
//! published ones) whose tables are snapshotted, and targeted checks that can fail — a fixture
//! whose AUC is an exact linear function of CoS-Low, one with 2 tasks, and an empty directory.

use std::path::{Path, PathBuf};

use dataeff::curve::BudgetGrid;
use dataeff::live::{CurveCell, MetricsCell};
use dataeff_experiments::{Cell, Context, Output, Table, registry};

const LIVE_IDS: [&str; 6] = ["findings", "live_curves", "metric_correlations", "coefficients_live", "prediction_error", "task_agreement"];
const BUDGETS: [usize; 6] = [0, 16, 32, 64, 128, 256];
const REPEATS: usize = 3;

/// One synthetic task: score `z + (best − z)·(log2 n / log2 256)^exponent`, a label score
/// `lift` above it (capped at 1), budgets above `train_pool` skipped, CoS-Low around `coslow`.
#[derive(Clone, Copy)]
struct Spec {
    name: &'static str,
    zero_shot: f64,
    best: f64,
    exponent: f64,
    label_lift: Option<f64>,
    train_pool: usize,
    coslow: f64,
}

const PLAUSIBLE: [Spec; 7] = [
    Spec { name: "hyperbaton", zero_shot: 0.48, best: 0.81, exponent: 0.6, label_lift: Some(0.05), train_pool: 5000, coslow: 0.31 },
    Spec { name: "sports_understanding", zero_shot: 0.52, best: 0.66, exponent: 1.8, label_lift: Some(0.03), train_pool: 5000, coslow: 0.12 },
    Spec { name: "boolean_expressions", zero_shot: 0.35, best: 0.72, exponent: 1.1, label_lift: Some(0.08), train_pool: 5000, coslow: 0.22 },
    Spec { name: "web_of_lies", zero_shot: 0.50, best: 0.58, exponent: 2.5, label_lift: Some(0.02), train_pool: 200, coslow: 0.08 },
    Spec { name: "object_counting", zero_shot: 0.04, best: 0.37, exponent: 0.9, label_lift: None, train_pool: 5000, coslow: 0.27 },
    Spec { name: "synthetic_random_kv", zero_shot: 0.0, best: 0.92, exponent: 0.4, label_lift: None, train_pool: 5000, coslow: 0.44 },
    Spec { name: "multistep_arithmetic", zero_shot: 0.02, best: 0.15, exponent: 3.0, label_lift: None, train_pool: 5000, coslow: 0.05 },
];

fn score(s: &Spec, n: usize) -> f64 {
    score_on(s, n, 256.0)
}

fn score_on(s: &Spec, n: usize, n_max: f64) -> f64 {
    if n == 0 { s.zero_shot } else { s.zero_shot + (s.best - s.zero_shot) * ((n as f64).log2() / n_max.log2()).powf(s.exponent) }
}

fn write_json(path: &Path, value: &impl serde::Serialize) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, serde_json::to_string_pretty(value).unwrap()).unwrap();
}

/// Write one task's curve and metrics cells under `dir` (a model directory); CoS-Low of repeat r
/// is `coslow + offsets[r]`.
fn write_task(dir: &Path, s: &Spec, offsets: [f64; REPEATS]) {
    write_task_on(dir, s, &BUDGETS, &offsets);
}

/// [`write_task`] on the budgets `budgets` with one repeat per offset.
fn write_task_on(dir: &Path, s: &Spec, budgets: &[usize], offsets: &[f64]) {
    let n_max = *budgets.last().unwrap() as f64;
    for &n in budgets {
        let skipped = n > s.train_pool;
        let value = (!skipped).then(|| score_on(s, n, n_max));
        let cell = CurveCell {
            id: format!("curve/{}/n{n}", s.name),
            key_sha256: String::new(),
            key: serde_json::json!({ "task": s.name, "budget": n }),
            task: s.name.into(),
            budget: n,
            skipped: skipped.then(|| format!("budget {n} larger than the train pool ({})", s.train_pool)),
            metric: "exact match".into(),
            score: value,
            // The format-free score gains most where the format is not learnt yet (small budgets).
            label_score: s.label_lift.and_then(|lift| value.map(|v| (v + lift * (1.0 - n as f64 / (2.0 * n_max))).min(1.0))),
            test_examples: 200,
            steps: if n == 0 || skipped { 0 } else { 4 * n },
            best_step: if n == 0 || skipped { 0 } else { 2 * n },
            validation: vec![],
            train_losses: vec![],
        };
        write_json(&dir.join(format!("cells/curve/{}/n{n}.json", s.name)), &cell);
        if let (false, Some(score)) = (skipped, cell.score) {
            write_predictions(&dir.join(format!("cells/curve/{}/n{n}.predictions.jsonl", s.name)), n, score, cell.label_score);
        }
    }
    for (repeat, offset) in offsets.iter().enumerate() {
        let cos_low = s.coslow + offset;
        let cell = MetricsCell {
            id: format!("metrics/{}/r{repeat}", s.name),
            key_sha256: String::new(),
            key: serde_json::json!({ "task": s.name, "repeat": repeat }),
            task: s.name.into(),
            repeat,
            draw_seed: 1000 + repeat as u64,
            lora_seed: 2000 + repeat as u64,
            k: 32,
            pool: 2500,
            low_confidence_pool: 250,
            low_confidence: (0..32).collect(),
            random: (100..132).collect(),
            cos_low,
            cos_sim_k: 0.3 * cos_low + 0.4 * s.best - 0.2 * s.zero_shot + 0.01 * repeat as f64,
            grad_norm_k: 4.0 - 2.0 * s.zero_shot + s.exponent * (0.2 + 0.1 * repeat as f64),
            conf_avg_k: 0.55 + 0.3 * s.zero_shot - 0.1 * s.best + 0.02 * (repeat as f64 - 1.0) * s.exponent,
        };
        write_json(&dir.join(format!("cells/metrics/{}/r{repeat}.json", s.name)), &cell);
    }
}

/// Test examples of a fixture curve.
const TEST_EXAMPLES: usize = 200;

/// A fraction in [0, 1) fixed by (example, budget, salt): which examples a budget gets right.
fn unit(i: usize, n: usize, salt: u64) -> f64 {
    let h = (i as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ (n as u64 + 7).wrapping_mul(0xC2B2_AE3D_27D4_EB4F) ^ salt;
    (h.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64
}

/// A budget's per-example outcomes: example i right when `unit(i, n)` < the score (so the mean
/// is near the cell's score, with a test set's independent noise at each budget).
fn write_predictions(path: &Path, n: usize, score: f64, label_score: Option<f64>) {
    let lines: Vec<String> = (0..TEST_EXAMPLES)
        .map(|i| {
            let right = unit(i, n, 1) < score;
            let prediction = dataeff::live::Prediction {
                index: i,
                prompt: format!("prompt {i}"),
                target: "A".into(),
                generated: if right { "A" } else { "B" }.into(),
                score: if right { 1.0 } else { 0.0 },
                label_log_likelihoods: vec![],
                label_correct: label_score.map(|l| unit(i, n, 2) < l),
            };
            serde_json::to_string(&prediction).unwrap()
        })
        .collect();
    std::fs::write(path, lines.join("\n") + "\n").unwrap();
}

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

fn context(live: &Path) -> Context {
    Context::load_with_live(&repo_root(), live).expect("fixture loads")
}

fn run(ctx: &Context, id: &str) -> Output {
    let exp = registry().into_iter().find(|e| e.id() == id).unwrap_or_else(|| panic!("{id} is registered"));
    exp.run(ctx).unwrap_or_else(|e| panic!("{id}: {e:#}"))
}

fn table<'a>(output: &'a Output, name: &str) -> &'a Table {
    output.tables.iter().find(|t| t.name == name).unwrap_or_else(|| panic!("table {name}"))
}

/// The cell in `column` of the first row whose cells match every `(column, text)` of `key`.
fn cell<'a>(t: &'a Table, key: &[(&str, &str)], column: &str) -> &'a Cell {
    let index = |c: &str| t.columns.iter().position(|x| x == c).unwrap_or_else(|| panic!("{}: no column {c}", t.name));
    let row = t
        .rows
        .iter()
        .find(|row| key.iter().all(|(c, v)| row[index(c)] == Cell::text(*v)))
        .unwrap_or_else(|| panic!("{}: no row {key:?}", t.name));
    &row[index(column)]
}

/// How many rows of `t` have `value` in `column`.
fn rows_with(t: &Table, (column, value): (&str, &str)) -> usize {
    let index = t.columns.iter().position(|x| x == column).unwrap_or_else(|| panic!("{}: no column {column}", t.name));
    t.rows.iter().filter(|row| row[index] == Cell::text(value)).count()
}

fn number(c: &Cell) -> f64 {
    match c {
        Cell::Num(v, _) | Cell::Sci(v) => *v,
        Cell::Int(i) => *i as f64,
        other => panic!("not a number: {other:?}"),
    }
}

fn plausible_fixture() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("SmolLM2-fixture");
    for (i, s) in PLAUSIBLE.iter().enumerate() {
        // Repeats scatter CoS-Low by a task-dependent amount (the draw and LoRA's A change).
        let d = 0.01 + 0.005 * i as f64;
        write_task(&model, s, [-d, 0.4 * d, 0.6 * d]);
    }
    dir
}

#[test]
fn the_plausible_fixture_matches_its_snapshots() {
    let dir = plausible_fixture();
    let ctx = context(dir.path());
    for id in LIVE_IDS {
        let output = run(&ctx, id);
        let mut text = format!("summary:\n{}\n", output.summary);
        for t in &output.tables {
            text += &format!("\ntable {}:\n{}", t.name, t.to_snapshot());
        }
        insta::assert_snapshot!(format!("fixture_{id}"), text);
        for f in &output.figures {
            assert!(f.png.starts_with(b"\x89PNG") && f.png.len() > 10_000, "{id}: {}", f.name);
            // To look at the fixture's figures: DATAEFF_FIXTURE_FIGURES=<dir> cargo test ...
            if let Some(dir) = std::env::var_os("DATAEFF_FIXTURE_FIGURES") {
                std::fs::write(Path::new(&dir).join(format!("{}.png", f.name)), &f.png).unwrap();
            }
        }
    }
}

#[test]
fn a_skipped_budget_is_carried_forward_and_said() {
    let dir = plausible_fixture();
    let output = run(&context(dir.path()), "live_curves");
    let t = table(&output, "live_curves");
    let key = [("model", "SmolLM2-fixture"), ("task", "web_of_lies")];
    assert_eq!(cell(t, &key, "skipped_carried"), &Cell::text("256"));
    let scores = match cell(t, &key, "scores") {
        Cell::Text(s) => s.clone(),
        other => panic!("{other:?}"),
    };
    let scores: Vec<&str> = scores.split(' ').collect();
    assert_eq!(scores.len(), BUDGETS.len());
    assert_eq!(scores[5], scores[4], "the skipped 256 carries 128's score");
    assert!(output.summary.contains("web_of_lies (256)"), "{}", output.summary);
    assert_eq!(output.figures.len(), 1);
    // The primary AUC equals the core's AUC of the carried curve on the fixture's grid, ceiling = max.
    let s = &PLAUSIBLE[3];
    let points: Vec<(u32, f64)> = BUDGETS.iter().map(|&n| (n as u32, score(s, n.min(128)))).collect();
    let grid = BudgetGrid::new([16, 32, 64, 128, 256]).unwrap();
    let expected = grid.auc(&points, None).unwrap().extrapolation_auc;
    assert!((number(cell(t, &key, "auc")) - expected).abs() < 1e-12);
}

/// Every task of the linear fixture: CoS-Low's repeat mean is exactly (AUC − I)/c.
const SLOPE: f64 = 0.62;
const INTERCEPT: f64 = 0.18;

fn linear_fixture() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("linear");
    let grid = BudgetGrid::new([16, 32, 64, 128, 256]).unwrap();
    for s in PLAUSIBLE {
        let s = Spec { train_pool: 5000, ..s };
        let points: Vec<(u32, f64)> = BUDGETS.iter().map(|&n| (n as u32, score(&s, n))).collect();
        let auc = grid.auc(&points, None).unwrap().extrapolation_auc;
        let coslow = (auc - INTERCEPT) / SLOPE;
        write_task(&model, &Spec { coslow, ..s }, [-0.03, 0.0, 0.03]);
    }
    dir
}

#[test]
fn an_exact_line_is_recovered_and_predicted_without_error() {
    let dir = linear_fixture();
    let ctx = context(dir.path());
    let coefficients = run(&ctx, "coefficients_live");
    let t = table(&coefficients, "coefficients_live");
    let slope = number(cell(t, &[("model", "linear"), ("coefficient", "slope")], "estimate"));
    let intercept = number(cell(t, &[("model", "linear"), ("coefficient", "intercept")], "estimate"));
    assert!((slope - SLOPE).abs() < 1e-9 && (intercept - INTERCEPT).abs() < 1e-9, "{slope} {intercept}");
    let loo_sd = number(cell(t, &[("model", "linear"), ("coefficient", "slope")], "loo_sd"));
    assert!(loo_sd < 1e-9, "{loo_sd}");

    let prediction = run(&ctx, "prediction_error");
    let t = table(&prediction, "prediction_error");
    let mae = number(cell(t, &[("model", "linear"), ("measure", "auc_absolute_error")], "mean"));
    assert!(mae < 1e-9, "{mae}");
    assert_eq!(number(cell(t, &[("model", "linear"), ("measure", "auc_absolute_error")], "tasks")), 7.0);
    // A perfect AUC still misses the budget by the curve shape: the error is measured, not zero by construction.
    let by_task = table(&prediction, "prediction_error_by_task");
    assert_eq!(rows_with(by_task, ("reading", "exact_match")), PLAUSIBLE.len());
    assert!(prediction.summary.contains("below the paper's 0.086"), "{}", prediction.summary);

    let correlations = run(&ctx, "metric_correlations");
    let t = table(&correlations, "metric_correlations");
    let r = number(cell(t, &[("model", "linear"), ("metric", "cos_low")], "r_of_repeat_mean"));
    assert!((r - 1.0).abs() < 1e-9, "{r}");
    // The repeats are shifted by ±0.03 on every task alike: each repeat's r is also 1, SD 0.
    let sd = number(cell(t, &[("model", "linear"), ("metric", "cos_low")], "r_sd_over_repeats"));
    assert!(sd.abs() < 1e-9, "{sd}");
}

#[test]
fn with_two_tasks_the_cross_task_analyses_say_they_need_three() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("two-tasks");
    for s in &PLAUSIBLE[..2] {
        write_task(&model, s, [-0.01, 0.0, 0.01]);
    }
    let ctx = context(dir.path());
    let needs = "needs at least 3 tasks; results/live/two-tasks has 2";
    for id in ["metric_correlations", "coefficients_live", "prediction_error", "task_agreement"] {
        let output = run(&ctx, id);
        assert!(output.summary.contains(needs), "{id}: {}", output.summary);
        let first = &output.tables[0];
        let note = first.columns.iter().position(|c| c == "note").unwrap();
        assert!(first.rows.iter().any(|r| matches!(&r[note], Cell::Text(s) if s.contains(needs))), "{id}: {first:?}");
        assert!(output.figures.is_empty(), "{id} draws nothing from 2 tasks");
    }
    // No correlation or coefficient is invented.
    let t = run(&ctx, "coefficients_live");
    assert_eq!(cell(table(&t, "coefficients_live"), &[("coefficient", "slope")], "estimate"), &Cell::Empty);
    let t = run(&ctx, "metric_correlations");
    assert_eq!(cell(table(&t, "metric_correlations"), &[("metric", "cos_low")], "r_of_repeat_mean"), &Cell::Empty);
    // The curves themselves are still shown.
    let curves = run(&ctx, "live_curves");
    assert_eq!(table(&curves, "live_curves").rows.len(), 2);
    assert_eq!(curves.figures.len(), 1);
}

#[test]
fn the_quick_profile_shape_runs_every_analysis() {
    // The lead's quick profile: budgets {0, 8, 32}, 2 repeats; here with 3 tasks so the fits run.
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("quick");
    for s in &PLAUSIBLE[..3] {
        write_task_on(&model, s, &[0, 8, 32], &[-0.01, 0.01]);
    }
    let ctx = context(dir.path());
    let curves = run(&ctx, "live_curves");
    assert!(curves.summary.contains("budget grid 8 32 (2 repeat(s)"), "{}", curves.summary);
    let t = run(&ctx, "metric_correlations");
    let t = table(&t, "metric_correlations");
    assert_eq!(number(cell(t, &[("metric", "cos_low")], "repeats_used")), 2.0);
    assert!(number(cell(t, &[("metric", "cos_low")], "r_sd_over_repeats")).is_finite());
    let t = run(&ctx, "coefficients_live");
    assert!(number(cell(table(&t, "coefficients_live"), &[("coefficient", "slope")], "estimate")).is_finite());
    let t = run(&ctx, "prediction_error");
    assert_eq!(rows_with(table(&t, "prediction_error_by_task"), ("reading", "exact_match")), 3);
}

#[test]
fn with_no_live_results_each_analysis_says_so() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("empty-model/cells")).unwrap();
    let ctx = context(dir.path());
    assert!(ctx.live.is_empty());
    for id in LIVE_IDS {
        let output = run(&ctx, id);
        assert!(output.summary.starts_with("No live results yet"), "{id}: {}", output.summary);
        assert!(output.tables.iter().all(|t| t.rows.is_empty()) && output.figures.is_empty(), "{id}");
    }
}

#[test]
fn task_agreement_counts_the_published_namesakes() {
    let dir = plausible_fixture();
    let output = run(&context(dir.path()), "task_agreement");
    let t = table(&output, "task_agreement");
    // hyperbaton, sports_understanding, boolean_expressions, web_of_lies and object_counting are
    // published for Llama; the synthetic tasks are not.
    let n = number(cell(t, &[("family", "llama"), ("live_ceiling", "max_score")], "n"));
    assert_eq!(n, 5.0);
    assert_eq!(table(&output, "task_agreement_by_task").rows.len(), 5);
}

/// Each curve's AUC has a test-set standard error beside it; a curve that does not rise above its
/// noise is flagged flat (and kept); the format-free reading is analysed apart, on the tasks
/// with a label score only.
#[test]
fn test_noise_flags_and_the_format_free_reading() {
    let dir = plausible_fixture();
    let model = dir.path().join("SmolLM2-fixture");
    let flat = Spec { name: "temporal_sequences", zero_shot: 0.50, best: 0.52, exponent: 1.0, label_lift: None, train_pool: 5000, coslow: 0.2 };
    write_task(&model, &flat, [0.0, 0.01, 0.02]);
    let ctx = context(dir.path());
    let curves = run(&ctx, "live_curves");
    let t = table(&curves, "live_curves");
    let key = |task| [("model", "SmolLM2-fixture"), ("task", task)];
    // Normalised by its own best score, a flat curve's AUC is mostly noise: noisy as well.
    assert_eq!(cell(t, &key("temporal_sequences"), "flags"), &Cell::text("flat, noisy"));
    assert_eq!(cell(t, &key("synthetic_random_kv"), "flags"), &Cell::text(""));
    let se = number(cell(t, &key("synthetic_random_kv"), "auc_se"));
    assert!(se > 0.0 && se < 0.1, "{se}");
    assert_eq!(number(cell(t, &key("hyperbaton"), "test_examples")), TEST_EXAMPLES as f64);
    // The fixture's web_of_lies rises 0.075 over 200 examples with independent noise per budget.
    assert!(curves.summary.contains("Flagged flat (2): temporal_sequences, web_of_lies."), "{}", curves.summary);
    assert!(curves.summary.contains("Flagged noisy (3): sports_understanding, temporal_sequences, web_of_lies."), "{}", curves.summary);

    let correlations = run(&ctx, "metric_correlations");
    let t = table(&correlations, "metric_correlations");
    let tasks = |reading| number(cell(t, &[("reading", reading), ("metric", "cos_low")], "tasks"));
    assert_eq!(tasks("exact_match"), 8.0);
    // hyperbaton, sports_understanding, boolean_expressions, web_of_lies have label scores.
    assert_eq!(tasks("format_free"), 4.0);
    let coefficients = run(&ctx, "coefficients_live");
    let t = table(&coefficients, "coefficients_live");
    assert_eq!(number(cell(t, &[("reading", "format_free"), ("coefficient", "slope")], "tasks")), 4.0);
}

/// Two models whose AUC is an exact but different line of CoS-Low: claim 3 (a model-specific
/// line) agrees; and the compute table reads `timings.jsonl` (curve vs CoS-Low time).
#[test]
fn findings_compare_two_models_and_read_the_timings() {
    let dir = tempfile::tempdir().unwrap();
    let grid = BudgetGrid::new([16, 32, 64, 128, 256]).unwrap();
    for (name, slope, intercept) in [("model-a", SLOPE, INTERCEPT), ("model-b", 0.3, 0.4)] {
        let model = dir.path().join(name);
        for s in PLAUSIBLE {
            let s = Spec { train_pool: 5000, ..s };
            let points: Vec<(u32, f64)> = BUDGETS.iter().map(|&n| (n as u32, score(&s, n))).collect();
            let auc = grid.auc(&points, None).unwrap().extrapolation_auc;
            write_task(&model, &Spec { coslow: (auc - intercept) / slope, ..s }, [-0.01, 0.0, 0.01]);
        }
    }
    let mut timings: Vec<String> = BUDGETS.iter().map(|n| format!(r#"{{"cell":"curve/hyperbaton/n{n}","seconds":100.0}}"#)).collect();
    timings.push(r#"{"cell":"confidence/hyperbaton","seconds":20.0}"#.into());
    timings.extend((0..REPEATS).map(|r| format!(r#"{{"cell":"metrics/hyperbaton/r{r}","seconds":{}}}"#, 30 + r)));
    // A resumed run may time a cell twice: the last time counts.
    timings.push(r#"{"cell":"confidence/hyperbaton","seconds":20.0}"#.into());
    std::fs::write(dir.path().join("model-a/timings.jsonl"), timings.join("\n")).unwrap();

    let output = run(&context(dir.path()), "findings");
    let t = table(&output, "findings");
    let claim3 = [("reading", "exact_match"), ("claim", "3. the CoS-Low line is family-specific")];
    assert_eq!(cell(t, &claim3, "verdict"), &Cell::text("agrees"), "{}", output.summary);
    let claim4 = [("model", "model-a"), ("reading", "exact_match"), ("claim", "4. leave-one-task-out AUC error about 8.6%")];
    assert_eq!(cell(t, &claim4, "verdict"), &Cell::text("agrees"));
    let c = table(&output, "findings_compute");
    let key = [("model", "model-a"), ("task", "hyperbaton")];
    assert_eq!(number(cell(c, &key, "curve_seconds")), 600.0);
    assert_eq!(number(cell(c, &key, "coslow_seconds")), 50.0);
    assert_eq!(number(cell(c, &key, "curve_over_coslow")), 12.0);
    assert_eq!(number(cell(c, &key, "all_repeats_seconds")), 20.0 + 30.0 + 31.0 + 32.0);
    assert!(output.summary.contains("One task's full curve took 12.0×"), "{}", output.summary);
}
