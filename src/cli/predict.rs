//! `dataeff predict`: CoS-Low → AUC' → curve `x^p` → budget for a target score.

use std::io::Write as _;

use anyhow::{anyhow, bail};
use clap::ValueEnum;

use dataeff::predict::{
    Coefficients, budget_for_target, curve_exponent, predicted_auc, published_coefficients, target_for_budget,
};
use dataeff::Family;

use super::numbers;

#[derive(clap::Args, Debug)]
#[command(after_help = "Example: dataeff predict --family llama --coslow 0.65 --target 0.9")]
pub struct Args {
    /// Model family whose published coefficients map CoS-Low to AUC (llama, mistral, qwen).
    #[arg(long, required_unless_present_all = ["slope", "intercept"])]
    family: Option<Family>,
    /// Use your own line instead of a family's: AUC' = slope · CoS-Low + intercept.
    #[arg(long, requires = "intercept", conflicts_with = "family", allow_negative_numbers = true, value_parser = numbers::finite)]
    slope: Option<f64>,
    #[arg(long, requires = "slope", conflicts_with = "family", allow_negative_numbers = true, value_parser = numbers::finite)]
    intercept: Option<f64>,
    /// Measured CoS-Low of the task, in [-1, 1].
    #[arg(long, allow_negative_numbers = true, value_parser = numbers::coslow)]
    coslow: f64,
    /// Target normalised score in (0, 1] (0 = zero-shot, 1 = human level); may be repeated.
    #[arg(long, default_values_t = [0.9], allow_negative_numbers = true, value_parser = numbers::target)]
    target: Vec<f64>,
    /// Also print the predicted normalised score at these budgets (1..=5000).
    #[arg(long, allow_negative_numbers = true, value_parser = numbers::budget)]
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
    let (label, flags, coefficients) = match (args.family, args.slope, args.intercept) {
        (Some(f), _, _) => (format!("{} ({})", f, f.model()), format!("--family {f}"), published_coefficients()[&f]),
        (None, Some(slope), Some(intercept)) => (
            "custom".to_string(),
            format!("--slope {slope} --intercept {intercept}"),
            Coefficients { slope, slope_pm: 0.0, intercept, intercept_pm: 0.0 },
        ),
        _ => bail!("give --family, or both --slope and --intercept"),
    };
    let auc = predicted_auc(args.coslow, &coefficients);
    let exponent = curve_exponent(auc).map_err(|_| {
        anyhow!(
            "--coslow {} with {flags} gives AUC' = {} · {} + {} = {auc:.4}, outside (0, 1): no curve x^p has that \
             area ({})",
            args.coslow,
            coefficients.slope,
            args.coslow,
            coefficients.intercept,
            coslow_range(&coefficients)
        )
    })?;
    // The flags are range-checked and the AUC is in (0, 1), so these cannot fail.
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

/// The CoS-Low values in [-1, 1] for which a line gives an AUC' in (0, 1), in words.
fn coslow_range(c: &Coefficients) -> String {
    if c.slope == 0.0 {
        return "the line is flat, so AUC' is its intercept whatever CoS-Low is".to_string();
    }
    let (a, b) = (-c.intercept / c.slope, (1.0 - c.intercept) / c.slope);
    let (low, high) = if a < b { (a, b) } else { (b, a) };
    if high <= -1.0 || low >= 1.0 {
        return "no CoS-Low in [-1, 1] gives an AUC' in (0, 1) on this line".to_string();
    }
    let lower = if low < -1.0 { "[-1".to_string() } else { format!("({low:.3}") };
    let upper = if high > 1.0 { "1]".to_string() } else { format!("{high:.3})") };
    format!("on this line only a CoS-Low in {lower}, {upper} gives an AUC' in (0, 1)")
}
