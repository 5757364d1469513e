//! Values of the numeric flags: finite numbers in the range each flag means. As a clap
//! `value_parser` each turns a bad value into clap's error, which names the flag and the value
//! (`invalid value '2' for '--coslow <COSLOW>': expected …`). Flags that take negative numbers
//! also need `allow_negative_numbers`, or clap reads `-0.1` as a flag.

use dataeff::curve::MAX_BUDGET;

/// Any finite number.
pub fn finite(text: &str) -> Result<f64, String> {
    let value: f64 = text.trim().parse().map_err(|_| "expected a number".to_string())?;
    if value.is_finite() { Ok(value) } else { Err("expected a finite number".to_string()) }
}

/// A CoS-Low: a median cosine similarity, in [-1, 1].
pub fn coslow(text: &str) -> Result<f64, String> {
    let value = finite(text)?;
    if (-1.0..=1.0).contains(&value) {
        Ok(value)
    } else {
        Err("expected a CoS-Low in [-1, 1] (it is a median cosine similarity)".to_string())
    }
}

/// A target normalised score, in (0, 1].
pub fn target(text: &str) -> Result<f64, String> {
    let value = finite(text)?;
    if value > 0.0 && value <= 1.0 {
        Ok(value)
    } else {
        Err("expected a normalised score in (0, 1] (0 = zero-shot, 1 = human level)".to_string())
    }
}

/// A fine-tuning budget on the curve's axis, in [1, 5000] examples.
pub fn budget(text: &str) -> Result<f64, String> {
    let value = finite(text)?;
    if (1.0..=f64::from(MAX_BUDGET)).contains(&value) {
        Ok(value)
    } else {
        Err(format!("expected a number of examples in [1, {MAX_BUDGET}], the budget axis the curve is defined on"))
    }
}

/// A probability strictly between 0 and 1 (a confidence).
pub fn probability(text: &str) -> Result<f64, String> {
    let value = finite(text)?;
    if value > 0.0 && value < 1.0 { Ok(value) } else { Err("expected a probability in (0, 1)".to_string()) }
}

/// A measured round, `BUDGET=SCORE`: examples fine-tuned on, in (0, 5000], and the normalised
/// score, in [0, 1] (0 = zero-shot, 1 = the ceiling).
pub fn observed(text: &str) -> Result<(f64, f64), String> {
    let (budget, score) = text
        .split_once('=')
        .ok_or_else(|| "expected BUDGET=SCORE, e.g. 400=0.62 (examples = normalised score)".to_string())?;
    let budget = finite(budget).map_err(|e| format!("the budget before `=`: {e}"))?;
    if !(budget > 0.0 && budget <= f64::from(MAX_BUDGET)) {
        return Err(format!("the budget {budget} is not a number of examples in (0, {MAX_BUDGET}]"));
    }
    let score = finite(score).map_err(|e| format!("the score after `=`: {e}"))?;
    if score > 1.0 {
        return Err(format!(
            "the score {score} is above the ceiling: scores are normalised, 1 = the ceiling (human level, or the best \
             score when higher), 0 = zero-shot"
        ));
    }
    if score < 0.0 {
        return Err(format!("the score {score} is below 0, the zero-shot score: a fine-tuned score under zero-shot counts as 0"));
    }
    Ok((budget, score))
}

/// A whole number, 0 or more (a count, a seed).
pub fn whole<T: std::str::FromStr>(text: &str) -> Result<T, String> {
    let text = text.trim();
    text.parse().map_err(|_| {
        let digits = !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit());
        if digits { "the number is too large".to_string() } else { "expected a whole number, 0 or more".to_string() }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_range_keeps_its_ends_and_refuses_beyond_them() {
        assert_eq!(coslow("-1"), Ok(-1.0));
        assert_eq!(coslow("1"), Ok(1.0));
        assert!(coslow("1.01").unwrap_err().contains("[-1, 1]"));
        assert_eq!(target("1"), Ok(1.0));
        assert!(target("0").unwrap_err().contains("(0, 1]"));
        assert_eq!(budget("1"), Ok(1.0));
        assert_eq!(budget("5000"), Ok(5000.0));
        assert!(budget("0.5").is_err() && budget("5001").is_err());
        for bad in ["nan", "inf", "-inf", "1e400"] {
            assert!(finite(bad).unwrap_err().contains("finite"), "{bad}");
        }
        assert_eq!(finite("x"), Err("expected a number".to_string()));
        assert_eq!(finite("-2.5"), Ok(-2.5));
        assert_eq!(observed("400=0.62"), Ok((400.0, 0.62)));
        assert!(observed("400").unwrap_err().contains("BUDGET=SCORE"));
        assert!(observed("0=0.5").unwrap_err().contains("(0, 5000]"));
        assert!(observed("x=0.5").unwrap_err().contains("before `=`"));
        assert!(observed("100=1.2").unwrap_err().contains("above the ceiling"));
        assert!(observed("100=-0.1").unwrap_err().contains("below 0"));
        assert_eq!(probability("0.5"), Ok(0.5));
        assert!(probability("1").is_err());
        assert_eq!(whole::<usize>("3"), Ok(3));
        assert!(whole::<usize>("-1").unwrap_err().contains("0 or more"));
        assert!(whole::<u64>("2.5").unwrap_err().contains("0 or more"));
        assert!(whole::<u64>("18446744073709551616").unwrap_err().contains("too large"));
    }
}
