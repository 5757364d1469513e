//! Property tests of the paper's math: the AUC (PAPER.md §2), the prediction curve (§5) and OLS.

use dataeff::annotation::{doubling_schedule, one_shot};
use dataeff::curve::{BUDGETS, BudgetGrid, CurveError, auc, clean, normalised_curve, trapezoid};
use dataeff::learning_curve::{PowerLaw, budget_to_reach, fit_curve_exponent, fit_power_law};
use dataeff::predict::{budget_for_target, predicted_score_at, target_for_budget};
use dataeff::regression::ols;
use proptest::prelude::*;

/// A curve on the zero-shot point plus a random subset of the paper's budgets, scores in [0, 1].
fn curve_with_gaps() -> impl Strategy<Value = Vec<(u32, f64)>> {
    (prop::collection::vec(any::<bool>(), BUDGETS.len()), prop::collection::vec(0.0f64..1.0, BUDGETS.len() + 1))
        .prop_map(|(present, scores)| {
            let mut pts = vec![(0, scores[0])];
            for (i, b) in BUDGETS.iter().enumerate() {
                if present[i] {
                    pts.push((*b, scores[i + 1]));
                }
            }
            pts
        })
}

/// A curve with every budget present.
fn full_curve() -> impl Strategy<Value = Vec<(u32, f64)>> {
    prop::collection::vec(0.0f64..1.0, BUDGETS.len() + 1)
        .prop_map(|s| std::iter::once(0).chain(BUDGETS).zip(s).collect())
}

proptest! {
    #[test]
    fn auc_lies_in_unit_interval(pts in curve_with_gaps(), human in prop::option::of(0.0f64..1.0)) {
        match auc(&pts, human) {
            Ok(s) => prop_assert!((0.0..=1.0).contains(&s.extrapolation_auc), "{}", s.extrapolation_auc),
            Err(e) => prop_assert!(matches!(e, CurveError::Degenerate { .. }), "unexpected error {e}"),
        }
    }

    #[test]
    fn cleaning_is_idempotent(pts in curve_with_gaps()) {
        let once = clean(&pts);
        prop_assert_eq!(clean(&once), once);
    }

    #[test]
    fn raising_a_point_never_lowers_auc(pts in curve_with_gaps(), which in any::<prop::sample::Index>(), up in 0.0f64..1.0) {
        // Ceiling fixed at human level 1 (above every score), so only the floor could move; the
        // raised point is above the cleaned curve's floor and stays at or below the ceiling.
        let floor = clean(&pts).iter().map(|p| p.1).fold(f64::INFINITY, f64::min);
        let i = which.index(pts.len());
        prop_assume!(pts[i].1 > floor);
        let mut raised = pts.clone();
        raised[i].1 += up * (1.0 - pts[i].1);
        let before = auc(&pts, Some(1.0)).unwrap().extrapolation_auc;
        let after = auc(&raised, Some(1.0)).unwrap().extrapolation_auc;
        prop_assert!(after >= before - 1e-12, "{before} -> {after}");
    }

    #[test]
    fn auc_is_invariant_to_positive_affine_rescaling(pts in full_curve(), human in 0.0f64..1.0, a in 0.01f64..100.0, b in -10.0f64..10.0) {
        // All budgets present: no zero is filled in, which would not be rescaled with the rest.
        let Ok(base) = auc(&pts, Some(human)) else { return Ok(()) };
        let scaled: Vec<(u32, f64)> = pts.iter().map(|&(n, s)| (n, a * s + b)).collect();
        let rescaled = auc(&scaled, Some(a * human + b)).unwrap();
        prop_assert!((base.extrapolation_auc - rescaled.extrapolation_auc).abs() < 1e-9);
    }

    #[test]
    fn budget_and_target_invert(auc in 0.02f64..0.98, target in 0.01f64..=1.0, budget in 2.0f64..5000.0) {
        let n = budget_for_target(target, auc).unwrap();
        prop_assert!((1.0..=5000.0 + 1e-6).contains(&n), "{n}");
        // Below ~2 examples the log2 axis squeezes many targets into budgets indistinguishable
        // from 1 in floating point, so the round trip is only asked of budgets from 2 on.
        if n >= 2.0 {
            let back = target_for_budget(n.min(5000.0), auc).unwrap();
            prop_assert!((back - target).abs() < 1e-9, "{target} -> {n} -> {back}");
        }
        let t = target_for_budget(budget, auc).unwrap();
        let again = budget_for_target(t, auc).unwrap();
        prop_assert!((again - budget).abs() < 1e-6 * budget, "{budget} -> {t} -> {again}");
    }

    #[test]
    fn power_curve_integrates_to_its_auc(auc in 0.05f64..0.95) {
        // Fine grid denser near 0, where x^p with p < 1 is steep.
        let x: Vec<f64> = (0..=20_000).map(|k| (f64::from(k) / 20_000.0).powi(3)).collect();
        let y: Vec<f64> = x.iter().map(|&v| predicted_score_at(v, auc).unwrap()).collect();
        prop_assert!((trapezoid(&x, &y) - auc).abs() < 1e-4, "{}", trapezoid(&x, &y));
    }

    #[test]
    fn ols_recovers_an_exact_line(slope in -5.0f64..5.0, intercept in -5.0f64..5.0, xs in prop::collection::vec(-10.0f64..10.0, 3..40)) {
        let spread = xs.iter().cloned().fold(f64::NEG_INFINITY, f64::max) - xs.iter().cloned().fold(f64::INFINITY, f64::min);
        prop_assume!(spread > 1e-3);
        let ys: Vec<f64> = xs.iter().map(|x| slope * x + intercept).collect();
        let fit = ols(&xs, &ys).unwrap();
        prop_assert!((fit.slope - slope).abs() < 1e-8 && (fit.intercept - intercept).abs() < 1e-8);
        prop_assert!(fit.residual_se < 1e-8);
    }

    #[test]
    fn power_law_fit_recovers_known_parameters(a in 0.5f64..1.0, b in 0.1f64..1.0, c in 0.05f64..1.5) {
        let truth = PowerLaw { a, b, c };
        let pts: Vec<(f64, f64)> = std::iter::once(0).chain(BUDGETS).map(|n| (f64::from(n), truth.at(f64::from(n)))).collect();
        let fit = fit_power_law(&pts).unwrap();
        prop_assert!((fit.a - a).abs() < 1e-4 && (fit.b - b).abs() < 1e-4 && (fit.c - c).abs() < 1e-3, "{fit:?} vs {truth:?}");
    }

    #[test]
    fn exponent_fit_recovers_known_exponent(p in 0.05f64..20.0) {
        let pts: Vec<(f64, f64)> = BUDGETS[..3].iter().map(|&n| {
            let x = dataeff::curve::log2_position(f64::from(n));
            (x, x.powf(p))
        }).collect();
        let fit = fit_curve_exponent(&pts).unwrap();
        prop_assert!((fit - p).abs() < 1e-5 * p.max(1.0), "{fit} vs {p}");
    }

    #[test]
    fn interpolated_budgets_are_monotone_in_the_target(pts in full_curve(), human in 0.0f64..1.0, t1 in 0.01f64..1.0, t2 in 0.01f64..1.0) {
        let Ok(curve) = normalised_curve(&pts, Some(human)) else { return Ok(()) };
        let (lo, hi) = if t1 <= t2 { (t1, t2) } else { (t2, t1) };
        match (budget_to_reach(&curve.x, &curve.y, lo), budget_to_reach(&curve.x, &curve.y, hi)) {
            (Some(a), Some(b)) => prop_assert!(a <= b + 1e-9, "{lo}->{a}, {hi}->{b}"),
            (None, Some(_)) => prop_assert!(false, "a lower target cannot be unreachable when a higher one is reached"),
            _ => {}
        }
    }

    #[test]
    fn every_schedule_that_reaches_spends_at_least_the_need(need in 1.0f64..5000.0, predicted in 1.0f64..5000.0) {
        let d = doubling_schedule(Some(need));
        let o = one_shot(predicted, Some(need), 32.0);
        prop_assert!(d.reached && d.labels >= need);
        prop_assert!(o.reached && o.labels >= need + 32.0);
        // A one-shot prediction at or above the need takes one round.
        if predicted >= need { prop_assert_eq!(o.rounds, 1); }
    }
}

proptest! {
    #[test]
    fn curve_auc_and_curve_exponent_invert(auc in 0.001f64..0.999, p in 0.001f64..1000.0) {
        use dataeff::predict::{curve_auc, curve_exponent};
        let back = curve_auc(curve_exponent(auc).unwrap()).unwrap();
        prop_assert!((back - auc).abs() < 1e-12, "{auc} -> {back}");
        let again = curve_exponent(curve_auc(p).unwrap()).unwrap();
        prop_assert!((again - p).abs() < 1e-9 * p.max(1.0), "{p} -> {again}");
    }

    #[test]
    fn carried_maximum_is_the_lowest_non_decreasing_curve_above_the_scores(scores in prop::collection::vec(-1.0f64..1.0, 0..20)) {
        let mut carried = scores.clone();
        dataeff::curve::carry_running_maximum(&mut carried);
        for (i, &v) in carried.iter().enumerate() {
            prop_assert!(v >= scores[i]);
            prop_assert!(i == 0 || v >= carried[i - 1], "not non-decreasing at {i}: {carried:?}");
            // Never above the scores so far: every carried value is one of them.
            prop_assert!(scores[..=i].contains(&v), "{v} at {i} is none of {:?}", &scores[..=i]);
        }
    }
}

proptest! {
    /// On any grid, a curve at the floor zero-shot and at the ceiling at every fine-tuning budget
    /// has AUC 1 − x₁/2 (x₁ the first budget's position), and the largest budget sits at x = 1.
    #[test]
    fn a_step_curve_has_the_area_its_first_budget_implies(mut budgets in prop::collection::btree_set(1u32..20_000, 1..9)) {
        budgets.insert(20_000);
        let grid = BudgetGrid::new(budgets.iter().copied().collect::<Vec<_>>()).unwrap();
        let mut points = vec![(0, 0.1)];
        points.extend(grid.budgets().iter().map(|&n| (n, 0.9)));
        let first = grid.position(f64::from(grid.budgets()[0]));
        let a = grid.auc(&points, None).unwrap().extrapolation_auc;
        prop_assert!((a - (1.0 - first / 2.0)).abs() < 1e-12, "{a} vs {}", 1.0 - first / 2.0);
        prop_assert_eq!(grid.position(f64::from(grid.max())), 1.0);
    }

    /// The paper's grid gives exactly (bit for bit) what the paper's free functions give.
    #[test]
    fn the_paper_grid_is_the_default(scores in prop::collection::vec(0.0f64..1.0, 8), human in prop::option::of(0.5f64..1.0)) {
        let points: Vec<(u32, f64)> = std::iter::once(0).chain(BUDGETS).zip(scores).collect();
        let paper = BudgetGrid::paper();
        prop_assert_eq!(paper.auc(&points, human), auc(&points, human));
    }
}

proptest! {
    /// On any grid, `x^p`'s budget for a target sits where the curve reaches it, the measured
    /// curve `x^p` sampled on the grid needs a budget within the grid, and the paper's grid gives
    /// the paper's numbers bit for bit.
    #[test]
    fn grid_budgets_invert_the_grid_position(n_max in 2u32..20_000, auc in 0.02f64..0.98, t in 0.01f64..1.0) {
        let grid = BudgetGrid::new(vec![n_max]).unwrap();
        let n = dataeff::predict::budget_for_target_on(&grid, t, auc).unwrap();
        prop_assert!((1.0..=f64::from(n_max) * (1.0 + 1e-12)).contains(&n), "{n}");
        let x_t = dataeff::predict::target_position(t, auc).unwrap();
        prop_assert!((grid.position(n) - x_t).abs() < 1e-9, "{} vs {x_t}", grid.position(n));
        prop_assert_eq!(dataeff::predict::budget_for_target_on(&BudgetGrid::paper(), t, auc), budget_for_target(t, auc));
        let x = [0.0, grid.position(f64::from(n_max))];
        let reached = dataeff::learning_curve::budget_to_reach_on(&grid, &x, &[0.0, 1.0], t).unwrap();
        prop_assert!(reached <= f64::from(n_max) * (1.0 + 1e-12), "{reached}");
    }

    /// Kendall's τ-b lies in [−1, 1], is unchanged by a monotone transform of either variable and
    /// flips its sign when one is reversed.
    #[test]
    fn kendall_is_a_rank_statistic(xy in prop::collection::vec((-10.0f64..10.0, -10.0f64..10.0), 2..30)) {
        use dataeff::stats::kendall;
        let (x, y): (Vec<f64>, Vec<f64>) = xy.into_iter().unzip();
        if let Some(tau) = kendall(&x, &y) {
            prop_assert!((-1.0..=1.0).contains(&tau));
            let cubed: Vec<f64> = x.iter().map(|v| v.powi(3)).collect();
            prop_assert!((kendall(&cubed, &y).unwrap() - tau).abs() < 1e-12);
            let reversed: Vec<f64> = y.iter().map(|v| -v).collect();
            prop_assert!((kendall(&x, &reversed).unwrap() + tau).abs() < 1e-12);
        }
    }
}

/// A non-decreasing normalised curve on the paper's grid (zero-shot 0), as the template is fitted on.
fn monotone_shape() -> impl Strategy<Value = Vec<f64>> {
    prop::collection::vec(0.0f64..1.0, BUDGETS.len()).prop_map(|mut v| {
        v.sort_by(f64::total_cmp);
        std::iter::once(0.0).chain(v).collect()
    })
}

/// The curve of `kind` for `auc` (within its range), and the range.
fn family_curve(kind: usize, shapes: &[Vec<f64>], width: f64, auc: f64) -> Option<dataeff::curve_family::Curve> {
    use dataeff::curve_family::{FamilyModel, Template, logistic_auc_range, logistic_for_auc};
    let x = BudgetGrid::paper().positions();
    match kind {
        0 => FamilyModel::Power.curve(auc).ok(),
        1 => {
            let rows: Vec<&[f64]> = shapes.iter().map(Vec::as_slice).collect();
            let t = Template::registered_mean_of(&x, &rows, 0.5).ok()?;
            let (lo, hi) = t.auc_range();
            (lo + 1e-6 < auc && auc < hi - 1e-6).then(|| t.curve(auc).unwrap())
        }
        _ => {
            let (lo, hi) = logistic_auc_range(&x, width);
            (lo + 1e-6 < auc && auc < hi - 1e-6).then(|| logistic_for_auc(&x, auc, width).unwrap())
        }
    }
}

proptest! {
    #[test]
    fn every_curve_family_is_monotone_has_its_auc_and_inverts(
        kind in 0usize..3,
        shapes in prop::collection::vec(monotone_shape(), 1..6),
        width in 0.02f64..2.0,
        auc in 0.05f64..0.95,
        targets in prop::collection::vec(0.01f64..=1.0, 1..6),
    ) {
        let Some(curve) = family_curve(kind, &shapes, width, auc) else { return Ok(()) };
        let grid = BudgetGrid::paper();
        prop_assert!((curve.area() - auc).abs() < 1e-9, "area {} for AUC {auc}", curve.area());
        let xs: Vec<f64> = (0..=200).map(|i| f64::from(i) / 200.0).collect();
        let ys: Vec<f64> = xs.iter().map(|&x| curve.score_at(x)).collect();
        prop_assert!(ys.windows(2).all(|w| w[1] >= w[0] - 1e-12), "not monotone: {ys:?}");
        prop_assert!(ys.iter().all(|y| (-1e-12..=1.0 + 1e-12).contains(y)));
        for t in targets {
            match curve.budget_for(t, &grid) {
                Some(n) if n >= 2.0 => {
                    let back = curve.score_for(n.min(5000.0), &grid);
                    prop_assert!((back - t).abs() < 1e-7, "{t} -> {n} -> {back}");
                }
                Some(_) => {}
                // Not reached within 5000: the curve ends below the target.
                None => prop_assert!(curve.score_for(5000.0, &grid) < t),
            }
        }
    }

    #[test]
    fn a_template_of_one_curve_warps_back_to_it(shape in monotone_shape()) {
        use dataeff::curve_family::Template;
        let x = BudgetGrid::paper().positions();
        let t = Template::mean_of(&x, &[&shape]).unwrap();
        let own = trapezoid(&x, &shape);
        let (lo, hi) = t.auc_range();
        prop_assume!(lo + 1e-6 < own && own < hi - 1e-6);
        let warped = t.curve(own).unwrap();
        let dataeff::curve_family::Curve::Sampled { y, .. } = warped else { unreachable!() };
        for (a, b) in y.iter().zip(&shape) {
            prop_assert!((a - b).abs() < 1e-6, "{y:?} vs {shape:?}");
        }
    }
}
