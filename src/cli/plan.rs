//! `dataeff plan`: the next budget to annotate, from a CoS-Low prediction and the fine-tuned
//! scores measured so far (the sequential planner of `dataeff::planner`).

use std::io::Write as _;

use anyhow::anyhow;
use clap::ValueEnum;

use dataeff::curve::{BudgetGrid, MAX_BUDGET};
use dataeff::curve_family::FamilyKind;
use dataeff::planner::{Belief, DEFAULT_SETTINGS, Hypotheses, Observation, PlanSettings, Prior};
use dataeff::predict::{curve_exponent, predicted_auc, spread_from_mae};

use super::coefficients::{resolve, shape};
use super::numbers;
use super::predict::coslow_range;

#[derive(clap::Args, Debug)]
#[command(after_help = "Reads: a coefficients CSV when --coefficients names a file (as `dataeff fit` writes it), and \
    data/published/ (the curves the family is fitted to). Writes nothing; prints the next budget.\n\n\
    Scores are normalised as the curve is: 0 = the zero-shot score, 1 = the ceiling (human level, or the best \
    score when it is higher): (score − zero-shot) / (ceiling − zero-shot).\n\n\
    Examples:\n  dataeff plan --coefficients llama --coslow 0.65 --target 0.9\n  \
    dataeff plan --coefficients llama --coslow 0.65 --target 0.9 --observed 400=0.62 --observed 900=0.81")]
pub struct Args {
    /// The line from CoS-Low to AUC: a family's published coefficients (llama, mistral, qwen) or a
    /// coefficients CSV written by `dataeff fit`.
    #[arg(long, value_name = "FAMILY|FILE")]
    coefficients: String,
    /// Measured CoS-Low of the task, in [-1, 1].
    #[arg(long, allow_negative_numbers = true, value_parser = numbers::coslow)]
    coslow: f64,
    /// Target normalised score in (0, 1] (0 = zero-shot, 1 = human level).
    #[arg(long, allow_negative_numbers = true, value_parser = numbers::target)]
    target: f64,
    /// A measured round: BUDGET=SCORE, the normalised score of the model fine-tuned on BUDGET
    /// examples (0 < BUDGET ≤ 5000, SCORE in [0, 1]); may be repeated. None: plan from CoS-Low alone.
    #[arg(long, value_name = "BUDGET=SCORE", allow_hyphen_values = true, value_parser = numbers::observed)]
    observed: Vec<(f64, f64)>,
    /// The curve family the planner's posterior is over (see `dataeff predict --help`).
    #[arg(long, default_value = "logistic", value_name = "xp|template|logistic")]
    curve: FamilyKind,
    /// Posterior probability the first budget (no round measured yet) should reach the target with.
    #[arg(long, default_value_t = DEFAULT_SETTINGS.first_confidence, value_parser = numbers::probability)]
    first_confidence: f64,
    /// The same for later budgets.
    #[arg(long, default_value_t = DEFAULT_SETTINGS.confidence, value_parser = numbers::probability)]
    confidence: f64,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum Format {
    Text,
    Json,
}

fn shown(n: Option<f64>) -> String {
    n.map_or(format!("more than {MAX_BUDGET}"), |n| format!("{}", n.ceil()))
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let line = resolve(&args.coefficients)?;
    let auc = predicted_auc(args.coslow, &line.coefficients);
    curve_exponent(auc).map_err(|_| {
        anyhow!(
            "--coslow {} with --coefficients {} gives AUC' = {auc:.4}, outside (0, 1) ({})",
            args.coslow,
            args.coefficients,
            coslow_range(&line.coefficients)
        )
    })?;
    let shape = shape(args.curve, line.family)?;
    let hypotheses = Hypotheses::new(&shape.model);
    let spread = spread_from_mae(line.mae);
    let belief = Belief::new(&hypotheses, Prior { auc, spread }, shape.noise)?;
    let grid = BudgetGrid::paper();
    let observations: Vec<Observation> = args.observed.iter().map(|&(budget, score)| Observation { budget, score }).collect();
    let settings = PlanSettings { first_confidence: args.first_confidence, confidence: args.confidence, ..DEFAULT_SETTINGS };
    let p = belief.propose(&grid, args.target, &observations, settings)?;
    let mut out = std::io::stdout().lock();
    match args.format {
        Format::Text => {
            writeln!(out, "prior: AUC' = {auc:.4} ± {spread:.4} (σ from {}), coefficients {}", line.mae_source, line.label)?;
            writeln!(out, "curve: {}, fitted to {} (misfit σ = {:.3})", args.curve, shape.fitted_on, shape.noise)?;
            for o in &observations {
                writeln!(out, "observed: {} examples → normalised score {}", o.budget, o.score)?;
            }
            writeln!(out, "posterior: mean AUC {:.4}; chance the target {} is reachable within {MAX_BUDGET} examples: {:.2}", p.auc, args.target, p.reachable)?;
            writeln!(
                out,
                "needed examples: median {}, 80% interval {}–{}",
                shown(p.need_median),
                shown(p.need_interval.0),
                shown(p.need_interval.1)
            )?;
            match (p.budget, p.reached_at) {
                (_, Some(at)) => writeln!(out, "target {} already reached with {at} examples: stop annotating", args.target)?,
                (Some(n), None) => writeln!(
                    out,
                    "next: annotate up to {n} examples in total and fine-tune (chance it reaches the target: {:.2})",
                    p.chance
                )?,
                (None, None) => writeln!(out, "all {MAX_BUDGET} examples are measured and the target is not reached: stop")?,
            }
        }
        Format::Json => {
            let json = serde_json::json!({
                "prior": {"auc": auc, "spread": spread, "coefficients": line.label},
                "curve": args.curve.name(),
                "observed": observations.iter().map(|o| serde_json::json!({"budget": o.budget, "score": o.score})).collect::<Vec<_>>(),
                "posterior_auc": p.auc,
                "reachable": p.reachable,
                "need_median": p.need_median,
                "need_interval_80": [p.need_interval.0, p.need_interval.1],
                "next_budget": p.budget,
                "chance": if p.chance.is_nan() { None } else { Some(p.chance) },
                "reached_at": p.reached_at,
            });
            writeln!(out, "{}", serde_json::to_string_pretty(&json)?)?;
        }
    }
    Ok(())
}
