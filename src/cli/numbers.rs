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
        assert_eq!(whole::<usize>("3"), Ok(3));
        assert!(whole::<usize>("-1").unwrap_err().contains("0 or more"));
        assert!(whole::<u64>("2.5").unwrap_err().contains("0 or more"));
        assert!(whole::<u64>("18446744073709551616").unwrap_err().contains("too large"));
    }
}
