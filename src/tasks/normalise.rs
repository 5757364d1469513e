//! Answer normalisation and the two metrics (PAPER.md §1).

/// The paper's normalisation of a generated answer: keep the text before the first newline,
/// strip, lower-case, strip one trailing '.'. (Cutting at the EOS token happens in decoding.)
pub fn normalise_answer(text: &str) -> String {
    let first = text.split('\n').next().unwrap_or("");
    let lower = first.trim().to_lowercase();
    lower.strip_suffix('.').unwrap_or(&lower).trim_end().to_string()
}

/// Exact match as the paper scores classification and multiple-choice answers: the normalised
/// prediction equals the lower-cased target once spaces are removed. We apply the same
/// normalisation to the target, so a target written with a trailing '.' (BIG-bench's
/// tracking_shuffled_objects options) still matches.
pub fn exact_match(prediction: &str, target: &str) -> bool {
    let squash = |s: &str| normalise_answer(s).chars().filter(|c| !c.is_whitespace()).collect::<String>();
    squash(prediction) == squash(target)
}

/// Tokens for F1: SQuAD's answer normalisation (lower-case, drop punctuation and the articles
/// a/an/the), split on whitespace.
pub fn f1_tokens(text: &str) -> Vec<String> {
    let cleaned: String =
        normalise_answer(text).chars().map(|c| if c.is_ascii_punctuation() { ' ' } else { c }).collect();
    cleaned.split_whitespace().filter(|w| !matches!(*w, "a" | "an" | "the")).map(str::to_string).collect()
}

/// Token-level F1 between a prediction and one target (multiset overlap of [`f1_tokens`]).
/// Two empty answers agree (1.0); one empty answer scores 0.
pub fn token_f1(prediction: &str, target: &str) -> f64 {
    let pred = f1_tokens(prediction);
    let gold = f1_tokens(target);
    if pred.is_empty() || gold.is_empty() {
        return f64::from(u8::from(pred.is_empty() && gold.is_empty()));
    }
    let mut remaining = gold.clone();
    let mut common = 0usize;
    for tok in &pred {
        if let Some(i) = remaining.iter().position(|g| g == tok) {
            remaining.swap_remove(i);
            common += 1;
        }
    }
    if common == 0 {
        return 0.0;
    }
    let precision = common as f64 / pred.len() as f64;
    let recall = common as f64 / gold.len() as f64;
    2.0 * precision * recall / (precision + recall)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalisation_follows_the_paper() {
        assert_eq!(normalise_answer("  True.\nbecause..."), "true");
        assert_eq!(normalise_answer("Blue Ball."), "blue ball");
        assert!(exact_match("blue ball.", "Blue ball."));
        assert!(exact_match("Yes", "yes"));
        assert!(!exact_match("yes, it does", "yes"));
        assert!(exact_match("6 pm to 9 pm", "6pm to 9pm"));
    }

    #[test]
    fn token_f1_counts_overlap() {
        assert_eq!(token_f1("the Eiffel tower", "Eiffel Tower"), 1.0);
        assert_eq!(token_f1("paris", "london"), 0.0);
        let f = token_f1("big red dog", "red dog");
        assert!((f - 0.8).abs() < 1e-12, "{f}");
        assert_eq!(token_f1("", ""), 1.0);
    }
}
