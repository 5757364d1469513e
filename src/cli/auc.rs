//! `dataeff auc`: the authors' `auc_res` JSON (or CSV) from their result-file layout.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::ValueEnum;

use dataeff::AucSummary;
use dataeff::curve::{auc, select_scores};
use dataeff::plausibility::{Severity, check_curve};
use dataeff::published::{human_level_of, read_family};

#[derive(clap::Args, Debug)]
#[command(after_help = "Example: dataeff auc --results-dir ../shared/reference/published --family llama")]
pub struct Args {
    /// Directory holding `finetune_results/<family>_<task>_full_result_v2.json` and `human_eval.json`.
    #[arg(long, value_name = "DIR")]
    results_dir: PathBuf,
    /// File prefix of the model family (e.g. llama, mistral, qwen).
    #[arg(long, value_name = "F")]
    family: String,
    #[arg(long, value_enum, default_value_t = Format::Json)]
    format: Format,
    /// Leave out tasks whose AUC cannot be computed (reported on stderr) instead of failing.
    #[arg(long)]
    skip_invalid: bool,
    /// Compute the AUC of curves that fail a plausibility check that may be legitimate (scores
    /// outside [0, 1], fewer than two fine-tuning budgets, a human level ≤ 0), reporting each as a
    /// warning instead of an error. (A human level at or below the lowest score and a curve that
    /// dips are always warnings.)
    #[arg(long)]
    allow_implausible: bool,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum Format {
    /// `{task: {max_acc, min_acc, extrapolation_auc, human_eval}}`, as the authors' `auc_res` files.
    Json,
    /// `task,max_acc,min_acc,extrapolation_auc,human_eval`.
    Csv,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let family = read_family(&args.results_dir, &args.family)?;
    let mut table: BTreeMap<String, AucSummary> = BTreeMap::new();
    let mut failures = Vec::new();
    for (task, (path, results)) in &family.tasks {
        let outcome = human_level_of(&family.human_eval_path, &family.human_eval, task)
            .map_err(anyhow::Error::from)
            .and_then(|h| {
                let whose = || format!("{}: task `{task}`", path.display());
                let points = select_scores(task, results).with_context(whose)?;
                // A plausibility error is an error unless allowed; the rest are printed as warnings.
                let findings = check_curve(&points, h);
                let blocking = |s: Severity| s == Severity::Fatal || (s == Severity::Implausible && !args.allow_implausible);
                if let Some(f) = findings.iter().find(|f| blocking(f.severity)) {
                    let hint = if f.severity == Severity::Implausible { " (--allow-implausible computes it anyway)" } else { "" };
                    bail!("{}: {f}{hint}", whose());
                }
                for f in &findings {
                    eprintln!("warning: {}: {f}", whose());
                }
                auc(&points, h).with_context(whose)
            });
        match outcome {
            Ok(summary) => {
                table.insert(task.clone(), summary);
            }
            Err(e) => failures.push(dataeff::exit::message(&e)),
        }
    }
    for f in &failures {
        eprintln!("{}: {f}", if args.skip_invalid { "skipped" } else { "error" });
    }
    if !failures.is_empty() && !args.skip_invalid {
        bail!("{} task(s) have no AUC (pass --skip-invalid to print the others)", failures.len());
    }
    let mut out = std::io::stdout().lock();
    match args.format {
        Format::Json => writeln!(out, "{}", serde_json::to_string_pretty(&table)?)?,
        Format::Csv => {
            let mut w = csv::Writer::from_writer(Vec::new());
            w.write_record(["task", "max_acc", "min_acc", "extrapolation_auc", "human_eval"])?;
            for (task, s) in &table {
                w.write_record([task.clone(), s.max_acc.to_string(), s.min_acc.to_string(), s.extrapolation_auc.to_string(), s.human_eval.to_string()])?;
            }
            out.write_all(&w.into_inner().map_err(|e| e.into_error())?)?;
        }
    }
    Ok(())
}
