//! Words chosen by comparing numbers, so that a summary's comparisons follow from the numbers it
//! states and cannot go stale when the numbers change.

/// `more` when `a > b`, `fewer` when `a < b`, else `as many` (of labels, rounds, examples).
pub fn more_or_fewer(a: f64, b: f64) -> &'static str {
    if a > b {
        "more"
    } else if a < b {
        "fewer"
    } else {
        "as many"
    }
}

/// `less` when `a < b`, `more` when `a > b`, else `as` (of a magnitude: biased, wasteful).
pub fn less_or_more(a: f64, b: f64) -> &'static str {
    if a < b {
        "less"
    } else if a > b {
        "more"
    } else {
        "as"
    }
}

/// How a prediction with mean signed error `bias` treats what it predicts: `overestimates` when
/// the bias is positive, `underestimates` when negative, else `is unbiased on`.
pub fn over_or_under(bias: f64) -> &'static str {
    if bias > 0.0 {
        "overestimates"
    } else if bias < 0.0 {
        "underestimates"
    } else {
        "is unbiased on"
    }
}

/// The verb for going from `from` to `to`: `cutting`, `raising` or `keeping`.
pub fn cutting_or_raising(from: f64, to: f64) -> &'static str {
    if to < from {
        "cutting"
    } else if to > from {
        "raising"
    } else {
        "keeping"
    }
}

/// Where `a` lies against `b`: `above`, `below` or `equal to`.
pub fn above_or_below(a: f64, b: f64) -> &'static str {
    if a > b {
        "above"
    } else if a < b {
        "below"
    } else {
        "equal to"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_follow_the_order_of_the_numbers() {
        assert_eq!([more_or_fewer(3.0, 2.0), more_or_fewer(2.0, 3.0), more_or_fewer(2.0, 2.0)], ["more", "fewer", "as many"]);
        assert_eq!([over_or_under(0.1), over_or_under(-0.1), over_or_under(0.0)], ["overestimates", "underestimates", "is unbiased on"]);
        assert_eq!([above_or_below(0.2, 0.1), above_or_below(0.1, 0.2), above_or_below(0.1, 0.1)], ["above", "below", "equal to"]);
        assert_eq!([less_or_more(1.0, 2.0), less_or_more(2.0, 1.0), less_or_more(1.0, 1.0)], ["less", "more", "as"]);
        assert_eq!([cutting_or_raising(6.5, 1.5), cutting_or_raising(1.5, 6.5), cutting_or_raising(1.0, 1.0)], ["cutting", "raising", "keeping"]);
    }
}
