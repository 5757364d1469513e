//! `dataeff predict`: CoS-Low → AUC' → a curve (`x^p`, or a family of `--curve`) → budget for a
//! target score, with intervals from the coefficients' ± and from the prediction error.

use std::io::Write as _;

use anyhow::{anyhow, bail};
use clap::ValueEnum;

use dataeff::curve::{BudgetGrid, MAX_BUDGET};
use dataeff::curve_family::{Curve, FamilyKind, FamilyModel};
use dataeff::predict::{Coefficients, PAPER_AUC_ERROR, curve_exponent, predicted_auc, spread_from_mae};
use dataeff::Family;

use super::coefficients::{Line, resolve, shape};
use super::numbers;

/// A budget interval, low then high (`None`: beyond the largest budget).
type Interval = (Option<f64>, Option<f64>);

/// Two-sided 80% normal quantile: the intervals printed are central 80% intervals.
const Z80: f64 = 1.281_551_565_5;

#[derive(clap::Args, Debug)]
#[command(after_help = "Reads: a coefficients CSV when --coefficients names a file (as `dataeff fit` writes it); \
    data/published/ for --curve template or logistic. Writes nothing; prints the prediction.\n\n\
    Examples:\n  dataeff predict --coefficients llama --coslow 0.65 --target 0.9\n  \
    dataeff predict --coefficients mine.csv --coslow 0.65 --curve logistic --target 0.5 --target 0.9")]
pub struct Args {
    /// The line from CoS-Low to AUC: a family's published coefficients (llama, mistral, qwen) or a
    /// coefficients CSV written by `dataeff fit`.
    #[arg(long, value_name = "FAMILY|FILE", required_unless_present_any = ["family", "slope"], conflicts_with_all = ["family", "slope", "intercept"])]
    coefficients: Option<String>,
    /// The same as --coefficients with a family name (kept for older scripts).
    #[arg(long, conflicts_with_all = ["slope", "intercept"])]
    family: Option<Family>,
    /// Use your own line instead of a family's: AUC' = slope · CoS-Low + intercept.
    #[arg(long, requires = "intercept", allow_negative_numbers = true, value_parser = numbers::finite)]
    slope: Option<f64>,
    #[arg(long, requires = "slope", allow_negative_numbers = true, value_parser = numbers::finite)]
    intercept: Option<f64>,
    /// Measured CoS-Low of the task, in [-1, 1].
    #[arg(long, allow_negative_numbers = true, value_parser = numbers::coslow)]
    coslow: f64,
    /// The curve family that turns the AUC into budgets: `xp` (the paper's x^p), `template` (the
    /// mean shape of the family's published curves, warped to the AUC) or `logistic` (a logistic
    /// in log budget whose width is fitted to those curves).
    #[arg(long, default_value = "xp", value_name = "xp|template|logistic")]
    curve: FamilyKind,
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

/// The line the flags name, and the flags as the user gave them (for messages).
fn line_of(args: &Args) -> anyhow::Result<(Line, String)> {
    match (&args.coefficients, args.family, args.slope, args.intercept) {
        (Some(c), _, _, _) => Ok((resolve(c)?, format!("--coefficients {c}"))),
        (None, Some(f), _, _) => Ok((resolve(f.prefix())?, format!("--family {f}"))),
        (None, None, Some(slope), Some(intercept)) => Ok((
            Line {
                label: "custom".to_string(),
                coefficients: Coefficients { slope, slope_pm: 0.0, intercept, intercept_pm: 0.0 },
                mae: PAPER_AUC_ERROR,
                mae_source: format!("the paper's headline error, {PAPER_AUC_ERROR}"),
                family: None,
            },
            format!("--slope {slope} --intercept {intercept}"),
        )),
        _ => bail!("give --coefficients, or both --slope and --intercept"),
    }
}

/// The budget for `target` on `curve`, `None` when the curve does not reach it within 5000.
fn budget(model: &FamilyModel, auc: f64, target: f64, grid: &BudgetGrid) -> Option<f64> {
    model.curve_clamped(auc).budget_for(target, grid)
}

fn shown(n: Option<f64>) -> String {
    n.map_or(format!("more than {MAX_BUDGET}"), |n| format!("{}", n.ceil()))
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let (line, flags) = line_of(&args)?;
    let coefficients = line.coefficients;
    let auc = predicted_auc(args.coslow, &coefficients);
    let exponent = curve_exponent(auc).map_err(|_| {
        anyhow!(
            "--coslow {} with {flags} gives AUC' = {} · {} + {} = {auc:.4}, outside (0, 1): no curve has that \
             area ({})",
            args.coslow,
            coefficients.slope,
            args.coslow,
            coefficients.intercept,
            coslow_range(&coefficients)
        )
    })?;
    let grid = BudgetGrid::paper();
    let (model, curve_text) = match args.curve {
        FamilyKind::Power => (FamilyModel::Power, format!("curve f(x) = x^{exponent:.4} on the log2 budget axis")),
        kind => {
            let s = shape(kind, line.family)?;
            let (lo, hi) = s.model.auc_range();
            let reach = if (lo..=hi).contains(&auc) {
                String::new()
            } else {
                format!("; AUC' is outside the {kind} curves' range [{lo:.4}, {hi:.4}] and is taken at its nearest end")
            };
            let detail = match &s.model {
                FamilyModel::Logistic { .. } => format!(", width {:.3}", s.model.width().unwrap_or(f64::NAN)),
                _ => String::new(),
            };
            (s.model, format!("curve: {kind}, fitted to {}{detail}{reach}", s.fitted_on))
        }
    };
    let curve: Curve = model.curve_clamped(auc);
    // The AUC' intervals: the coefficients' ± (added up, a conservative reading), and a central
    // 80% interval from the prediction error.
    let pm = args.coslow.abs() * coefficients.slope_pm + coefficients.intercept_pm;
    let sigma = spread_from_mae(line.mae);
    let from_pm = (auc - pm, auc + pm);
    let from_error = (auc - Z80 * sigma, auc + Z80 * sigma);
    // A higher AUC needs fewer examples: the interval's upper AUC gives its lower budget.
    let interval = |(lo, hi): (f64, f64), t: f64| (budget(&model, hi, t, &grid), budget(&model, lo, t, &grid));
    let budgets: Vec<(f64, Option<f64>, Interval, Interval)> =
        args.target.iter().map(|&t| (t, curve.budget_for(t, &grid), interval(from_pm, t), interval(from_error, t))).collect();
    let scores: Vec<(f64, f64)> = args.budget.iter().map(|&n| (n, curve.score_for(n, &grid))).collect();
    let mut out = std::io::stdout().lock();
    match args.format {
        Format::Text => {
            writeln!(out, "coefficients: {}: AUC' = {} * CoS-Low + {}", line.label, coefficients.slope, coefficients.intercept)?;
            writeln!(out, "predicted AUC: {auc:.4}  ({curve_text})")?;
            writeln!(
                out,
                "AUC' from the coefficients' ±: [{:.4}, {:.4}]; 80% interval from the prediction error ({}): [{:.4}, {:.4}]",
                from_pm.0, from_pm.1, line.mae_source, from_error.0, from_error.1
            )?;
            for (t, n, pm, err) in &budgets {
                match n {
                    Some(n) => writeln!(out, "target {t}: {} examples (n = {n:.1})", n.ceil())?,
                    None => writeln!(out, "target {t}: not reached within {MAX_BUDGET} examples on this curve")?,
                }
                writeln!(
                    out,
                    "  interval: {}–{} examples from the coefficients' ±, {}–{} from the prediction error (80%)",
                    shown(pm.0),
                    shown(pm.1),
                    shown(err.0),
                    shown(err.1)
                )?;
            }
            for (n, s) in &scores {
                writeln!(out, "budget {n}: predicted normalised score {s:.4}")?;
            }
        }
        Format::Json => {
            let pair = |p: &(Option<f64>, Option<f64>)| serde_json::json!([p.0, p.1]);
            let json = serde_json::json!({
                "coefficients": {"label": line.label, "slope": coefficients.slope, "intercept": coefficients.intercept,
                                 "slope_pm": coefficients.slope_pm, "intercept_pm": coefficients.intercept_pm, "loo_mae": line.mae},
                "coslow": args.coslow,
                "curve": args.curve.name(),
                "predicted_auc": auc,
                "auc_interval_coefficients": [from_pm.0, from_pm.1],
                "auc_interval_error_80": [from_error.0, from_error.1],
                "curve_exponent": exponent,
                "targets": budgets.iter().map(|(t, n, pm, err)| serde_json::json!({
                    "target": t, "budget": n, "interval_coefficients": pair(pm), "interval_error_80": pair(err)
                })).collect::<Vec<_>>(),
                "budgets": scores.iter().map(|(n, s)| serde_json::json!({"budget": n, "score": s})).collect::<Vec<_>>(),
            });
            writeln!(out, "{}", serde_json::to_string_pretty(&json)?)?;
        }
    }
    Ok(())
}

/// The CoS-Low values in [-1, 1] for which a line gives an AUC' in (0, 1), in words.
pub fn coslow_range(c: &Coefficients) -> String {
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
