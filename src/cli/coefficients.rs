//! `--coefficients <family or file>`, shared by `predict` and `plan`: a family's published line
//! (llama, mistral, qwen) or a coefficients CSV as `dataeff fit` writes it; and the curve
//! families of `--curve`, fitted to the project's published curves.

use std::path::Path;

use anyhow::{Context as _, bail};

use dataeff::curve::{BudgetGrid, normalised_curve, select_scores};
use dataeff::curve_family::{FamilyKind, FamilyModel};
use dataeff::predict::{Coefficients, PAPER_AUC_ERROR, published_coefficients};
use dataeff::tidy::{PublishedData, read_coefficients};
use dataeff::Family;

use super::project_data;

/// A line from CoS-Low to AUC and what is known of its error.
pub struct Line {
    /// For messages: `llama (Llama-3.1-8B-Instruct)` or the file.
    pub label: String,
    pub coefficients: Coefficients,
    /// Mean absolute leave-one-task-out error of the AUC the line predicts, and where it comes from.
    pub mae: f64,
    pub mae_source: String,
    /// The family whose published curves shape `--curve template` and `logistic` (a file: all three).
    pub family: Option<Family>,
}

/// A family name or a coefficients file.
pub fn resolve(arg: &str) -> anyhow::Result<Line> {
    if let Ok(family) = arg.parse::<Family>() {
        return Ok(Line {
            label: format!("{family} ({})", family.model()),
            coefficients: published_coefficients()[&family],
            mae: PAPER_AUC_ERROR,
            mae_source: format!("the paper's headline error, {PAPER_AUC_ERROR}"),
            family: Some(family),
        });
    }
    let path = Path::new(arg);
    if !path.is_file() {
        bail!("--coefficients `{arg}`: not a family (llama, mistral, qwen) and no such file");
    }
    let row = read_coefficients(path)?;
    let (mae, mae_source) = match row.loo_mae {
        Some(m) => (m, format!("the file's leave-one-task-out error, {m:.4}")),
        None => (PAPER_AUC_ERROR, format!("the paper's headline error, {PAPER_AUC_ERROR} (the file has no loo_mae)")),
    };
    Ok(Line {
        label: format!("{} ({})", row.family, path.display()),
        coefficients: row.coefficients(),
        mae,
        mae_source,
        family: None,
    })
}

/// A curve family fitted to published curves, with its misfit there and what it was fitted on.
pub struct Shape {
    pub model: FamilyModel,
    pub noise: f64,
    pub fitted_on: String,
}

/// `kind` fitted to every published curve of `family` (all three families when `None`) that has a
/// zero-shot score and one at every budget of the paper's grid.
pub fn shape(kind: FamilyKind, family: Option<Family>) -> anyhow::Result<Shape> {
    let dir = project_data::published_dir().map_err(anyhow::Error::msg)?;
    let data = PublishedData::load(&dir)?;
    let grid = BudgetGrid::paper();
    let x = grid.positions();
    let mut curves: Vec<(f64, Vec<f64>)> = Vec::new();
    for ((f, task), results) in &data.scores {
        if family.is_some_and(|g| g != *f) {
            continue;
        }
        let Ok(points) = select_scores(task, results) else { continue };
        let Ok(curve) = normalised_curve(&points, data.human_level(task)) else { continue };
        if curve.x.len() == x.len() && curve.y.iter().all(|v| (0.0..=1.0).contains(v)) {
            let auc = dataeff::curve::trapezoid(&curve.x, &curve.y);
            curves.push((auc, curve.y));
        }
    }
    let samples: Vec<(f64, &[f64])> = curves.iter().map(|(a, y)| (*a, y.as_slice())).collect();
    let model = FamilyModel::fit(kind, &grid, &samples).with_context(|| format!("fitting --curve {kind}"))?;
    let noise = model.misfit(&x, &samples);
    let scope = family.map_or("the three families'".to_string(), |f| format!("{f}'s"));
    Ok(Shape { model, noise, fitted_on: format!("{} of {scope} published curves", samples.len()) })
}
