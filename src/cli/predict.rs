//! `dataeff predict`: CoS-Low → AUC' → curve `x^p` → budget for a target score.

use std::io::Write as _;

use anyhow::bail;
use clap::ValueEnum;

use dataeff::predict::{
    Coefficients, budget_for_target, curve_exponent, predicted_auc, published_coefficients, target_for_budget,
};
use dataeff::Family;

#[derive(clap::Args, Debug)]
#[command(after_help = "Example: dataeff predict --family llama --coslow 0.65 --target 0.9")]
pub struct Args {
    /// Model family whose published coefficients map CoS-Low to AUC (llama, mistral, qwen).
    #[arg(long, required_unless_present_all = ["slope", "intercept"])]
    family: Option<Family>,
    /// Use your own line instead of a family's: AUC' = slope · CoS-Low + intercept.
    #[arg(long, requires = "intercept", conflicts_with = "family")]
    slope: Option<f64>,
    #[arg(long, requires = "slope", conflicts_with = "family")]
    intercept: Option<f64>,
    /// Measured CoS-Low of the task.
    #[arg(long)]
    coslow: f64,
    /// Target normalised score in (0, 1] (0 = zero-shot, 1 = human level); may be repeated.
    #[arg(long, default_values_t = [0.9])]
    target: Vec<f64>,
    /// Also print the predicted normalised score at these budgets (1..=5000).
    #[arg(long)]
    budget: Vec<f64>,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum Format {
    Text,
    Json,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let (label, coefficients) = match (args.family, args.slope, args.intercept) {
        (Some(f), _, _) => (format!("{} ({})", f, f.model()), published_coefficients()[&f]),
        (None, Some(slope), Some(intercept)) => {
            ("custom".to_string(), Coefficients { slope, slope_pm: 0.0, intercept, intercept_pm: 0.0 })
        }
        _ => bail!("give --family, or both --slope and --intercept"),
    };
    let auc = predicted_auc(args.coslow, &coefficients);
    let exponent = curve_exponent(auc)?;
    let budgets: Vec<(f64, f64)> =
        args.target.iter().map(|&t| Ok((t, budget_for_target(t, auc)?))).collect::<anyhow::Result<_>>()?;
    let scores: Vec<(f64, f64)> =
        args.budget.iter().map(|&n| Ok((n, target_for_budget(n, auc)?))).collect::<anyhow::Result<_>>()?;
    let mut out = std::io::stdout().lock();
    match args.format {
        Format::Text => {
            writeln!(out, "coefficients: {label}: AUC' = {} * CoS-Low + {}", coefficients.slope, coefficients.intercept)?;
            writeln!(out, "predicted AUC: {auc:.4}  (curve f(x) = x^{exponent:.4} on the log2 budget axis)")?;
            for (t, n) in &budgets {
                writeln!(out, "target {t}: {} examples (n = {n:.1})", n.ceil())?;
            }
            for (n, s) in &scores {
                writeln!(out, "budget {n}: predicted normalised score {s:.4}")?;
            }
        }
        Format::Json => {
            let json = serde_json::json!({
                "coefficients": {"label": label, "slope": coefficients.slope, "intercept": coefficients.intercept},
                "coslow": args.coslow,
                "predicted_auc": auc,
                "curve_exponent": exponent,
                "targets": budgets.iter().map(|(t, n)| serde_json::json!({"target": t, "budget": n})).collect::<Vec<_>>(),
                "budgets": scores.iter().map(|(n, s)| serde_json::json!({"budget": n, "score": s})).collect::<Vec<_>>(),
            });
            writeln!(out, "{}", serde_json::to_string_pretty(&json)?)?;
        }
    }
    Ok(())
}
