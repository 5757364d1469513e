//! `dataeff fit`: a family's line AUC = c · CoS-Low + I from one's own curves, written as a
//! coefficients CSV that `predict --coefficients` and `plan --coefficients` read.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::PathBuf;

use anyhow::bail;

use dataeff::regression::{leave_one_out_predictions, ols};
use dataeff::stats::{mean, pearson};
use dataeff::tidy::{CoefficientsRow, read_task_values, write_rows};

#[derive(clap::Args, Debug)]
#[command(after_help = "Reads: --auc (columns task,auc: one row per task, the AUC of its measured curve, e.g. from \
    `dataeff auc`) and --metrics (columns task,coslow: one row per task and repeat; a task's repeats are averaged). \
    Other columns are ignored. Writes: --out, one row in the columns of data/coefficients.csv \
    (family,model,slope,slope_pm,intercept,intercept_pm, the ± being OLS standard errors) plus n_tasks, r and \
    loo_mae (the mean absolute leave-one-task-out error of the AUC), readable by `predict --coefficients` and \
    `plan --coefficients`.\n\nExample: dataeff fit --auc auc.csv --metrics metrics.csv --out coefficients.csv")]
pub struct Args {
    /// CSV with columns task,auc.
    #[arg(long, value_name = "FILE")]
    auc: PathBuf,
    /// CSV with columns task,coslow (several rows of a task are its repeats).
    #[arg(long, value_name = "FILE")]
    metrics: PathBuf,
    /// Where to write the coefficients CSV.
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
    /// The name in the file's `family` column.
    #[arg(long, default_value = "custom")]
    name: String,
    /// The model in the file's `model` column.
    #[arg(long, default_value = "")]
    model: String,
}

/// Fewest tasks a line with a leave-one-out error can be fitted to.
const MIN_TASKS: usize = 3;

pub fn run(args: Args) -> anyhow::Result<()> {
    let aucs = read_task_values(&args.auc, "auc")?;
    let metrics = read_task_values(&args.metrics, "coslow")?;
    let (auc_file, metrics_file) = (args.auc.display(), args.metrics.display());
    for (task, rows) in &aucs {
        if rows.len() > 1 {
            bail!("{auc_file}: line {}: task `{task}` already has an AUC on line {} (one row per task)", rows[1].0, rows[0].0);
        }
        let (line, auc) = rows[0];
        if !(0.0..=1.0).contains(&auc) {
            bail!("{auc_file}: line {line}, field `auc`: expected an AUC in [0, 1], found {auc}");
        }
    }
    for rows in metrics.values() {
        if let Some((line, v)) = rows.iter().find(|(_, v)| !(-1.0..=1.0).contains(v)) {
            bail!("{metrics_file}: line {line}, field `coslow`: expected a CoS-Low in [-1, 1], found {v}");
        }
    }
    let only_auc: Vec<&str> = aucs.keys().filter(|t| !metrics.contains_key(*t)).map(String::as_str).collect();
    let only_metrics: Vec<&str> = metrics.keys().filter(|t| !aucs.contains_key(*t)).map(String::as_str).collect();
    if !only_auc.is_empty() {
        bail!("task{} {} in {auc_file} but not in {metrics_file}", plural(only_auc.len()), quoted(&only_auc));
    }
    if !only_metrics.is_empty() {
        bail!("task{} {} in {metrics_file} but not in {auc_file}", plural(only_metrics.len()), quoted(&only_metrics));
    }
    if aucs.len() < MIN_TASKS {
        bail!("{auc_file}: {} task{}, but a line with standard errors and a leave-one-out error needs at least {MIN_TASKS}", aucs.len(), plural(aucs.len()));
    }
    // Per task: the mean CoS-Low over repeats, and their standard deviation (with ≥ 2 repeats).
    let per_task: BTreeMap<&str, (f64, usize, Option<f64>)> = metrics
        .iter()
        .map(|(task, rows)| {
            let values: Vec<f64> = rows.iter().map(|r| r.1).collect();
            let m = mean(&values);
            let sd = (values.len() > 1)
                .then(|| (values.iter().map(|v| (v - m).powi(2)).sum::<f64>() / (values.len() - 1) as f64).sqrt());
            (task.as_str(), (m, values.len(), sd))
        })
        .collect();
    let tasks: Vec<&str> = aucs.keys().map(String::as_str).collect();
    let x: Vec<f64> = tasks.iter().map(|t| per_task[t].0).collect();
    let y: Vec<f64> = tasks.iter().map(|t| aucs[*t][0].1).collect();
    let fit = ols(&x, &y).map_err(|e| anyhow::anyhow!("{metrics_file}: cannot fit AUC on CoS-Low: {e}"))?;
    let loo = leave_one_out_predictions(&x, &y)?;
    let loo_mae = mean(&loo.iter().zip(&y).map(|(p, a)| (p - a).abs()).collect::<Vec<_>>());
    let r = pearson(&x, &y);
    let row = CoefficientsRow {
        family: args.name.clone(),
        model: args.model.clone(),
        slope: fit.slope,
        slope_pm: fit.slope_se,
        intercept: fit.intercept,
        intercept_pm: fit.intercept_se,
        n_tasks: Some(tasks.len()),
        r,
        loo_mae: Some(loo_mae),
    };
    write_rows(&args.out, &[row])?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "fitted AUC = c · CoS-Low + I on {} tasks ({auc_file}, {metrics_file})", tasks.len())?;
    writeln!(out, "slope c = {:.4} ± {:.4} (SE)", fit.slope, fit.slope_se)?;
    writeln!(out, "intercept I = {:.4} ± {:.4} (SE)", fit.intercept, fit.intercept_se)?;
    writeln!(out, "r = {}", r.map_or("undefined (constant AUC)".to_string(), |r| format!("{r:.3}")))?;
    writeln!(out, "leave-one-task-out mean absolute AUC error: {loo_mae:.4}")?;
    let spreads: Vec<f64> = per_task.values().filter_map(|t| t.2).collect();
    let repeats: usize = per_task.values().map(|t| t.1).sum();
    if spreads.is_empty() {
        writeln!(out, "CoS-Low repeats: one per task ({repeats} rows), so no spread over repeats")?;
    } else {
        writeln!(
            out,
            "CoS-Low repeats: {repeats} rows; standard deviation over repeats: mean {:.4}, largest {:.4} ({} task{} with ≥ 2 repeats)",
            mean(&spreads),
            spreads.iter().copied().fold(0.0, f64::max),
            spreads.len(),
            plural(spreads.len())
        )?;
    }
    writeln!(out, "wrote {}", args.out.display())?;
    Ok(())
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

fn quoted(tasks: &[&str]) -> String {
    tasks.iter().map(|t| format!("`{t}`")).collect::<Vec<_>>().join(", ")
}
