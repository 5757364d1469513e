//! What annotation costs: a doubling annotate-and-fine-tune schedule against a one-shot budget
//! prediction (pure). A curve's real need is the budget `n*` at which it first reaches the
//! target; since the cleaned curve is non-decreasing, a round with `n` examples succeeds iff `n ≥ n*`.

use crate::curve::MAX_BUDGET;

/// First round of the doubling schedule (the paper's smallest budget).
pub const FIRST_ROUND: f64 = 50.0;

/// Labels annotated and fine-tuning rounds run before stopping.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Spend {
    pub labels: f64,
    pub rounds: u32,
    /// Whether the target was reached within the largest budget.
    pub reached: bool,
}

/// Annotate `start`, then double (`start, 2·start, …`, the last round capped at 5000) until a round
/// reaches the need `needed` (`None`: never reached; every round up to 5000 is spent).
/// `upfront` labels are spent before the first round (e.g. CoS-Low's 32).
pub fn doubling_from(start: f64, needed: Option<f64>, upfront: f64) -> Spend {
    doubling_within(MAX_BUDGET, start, needed, upfront)
}

/// [`doubling_from`] with the last round capped at `max_budget` instead of 5000 (a live study's
/// budget grid).
pub fn doubling_within(max_budget: u32, start: f64, needed: Option<f64>, upfront: f64) -> Spend {
    let max = f64::from(max_budget);
    let mut n = start.clamp(1.0, max).ceil();
    let mut rounds = 1;
    loop {
        if needed.is_some_and(|need| n >= need) {
            return Spend { labels: upfront + n, rounds, reached: true };
        }
        if n >= max {
            return Spend { labels: upfront + n, rounds, reached: false };
        }
        n = (2.0 * n).min(max);
        rounds += 1;
    }
}

/// The baseline: a doubling schedule from 50 labels.
pub fn doubling_schedule(needed: Option<f64>) -> Spend {
    doubling_from(FIRST_ROUND, needed, 0.0)
}

/// A one-shot prediction: spend `upfront` labels to predict, annotate the predicted budget, and if
/// that falls short, keep doubling from there.
pub fn one_shot(predicted: f64, needed: Option<f64>, upfront: f64) -> Spend {
    doubling_from(predicted, needed, upfront)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubling_stops_at_the_first_round_past_the_need() {
        // 50, 100, 200, 400 → 400 ≥ 300.
        assert_eq!(doubling_schedule(Some(300.0)), Spend { labels: 400.0, rounds: 4, reached: true });
        // 50 … 3200, then 5000 (capped).
        assert_eq!(doubling_schedule(Some(4000.0)), Spend { labels: 5000.0, rounds: 8, reached: true });
        assert_eq!(doubling_schedule(None), Spend { labels: 5000.0, rounds: 8, reached: false });
        // 16, 32, 64, 128 → 128 ≥ 100; never reached on a grid up to 512: 16 … 512.
        assert_eq!(doubling_within(512, 16.0, Some(100.0), 0.0), Spend { labels: 128.0, rounds: 4, reached: true });
        assert_eq!(doubling_within(512, 16.0, None, 0.0), Spend { labels: 512.0, rounds: 6, reached: false });
    }

    #[test]
    fn one_shot_pays_upfront_and_doubles_when_short() {
        assert_eq!(one_shot(1000.0, Some(700.0), 32.0), Spend { labels: 1032.0, rounds: 1, reached: true });
        assert_eq!(one_shot(300.0, Some(700.0), 32.0), Spend { labels: 32.0 + 1200.0, rounds: 3, reached: true });
    }
}
