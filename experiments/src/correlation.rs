//! How the correlation experiments tabulate a correlation: at one confidence level, as the cells
//! `r, ci_low, ci_high, p_value, n` (empty where the correlation is undefined).

use dataeff::stats::{Correlation, CorrelationKind, correlation};

use crate::table::Cell;

/// Confidence level of every correlation interval in the report.
pub const LEVEL: f64 = 0.95;

/// The correlation of `x` and `y` with its [`LEVEL`] interval (`None`: undefined).
pub fn correlate(kind: CorrelationKind, x: &[f64], y: &[f64]) -> Option<Correlation> {
    correlation(kind, x, y, LEVEL)
}

/// The trailing columns of a correlation table, filled by [`cells`].
pub const COLUMNS: [&str; 5] = ["r", "ci_low", "ci_high", "p_value", "n"];

/// The [`COLUMNS`] cells of a correlation over `n` pairs.
pub fn cells(c: Option<Correlation>, n: usize) -> [Cell; 5] {
    [
        c.map(|c| c.r).into(),
        c.map(|c| c.lo).into(),
        c.map(|c| c.hi).into(),
        c.map_or(Cell::Empty, |c| Cell::Sci(c.p_value)),
        Cell::Int(n as i64),
    ]
}
