//! Replay the trades of a tracking_shuffled_objects story with a name → object map.

use std::collections::HashMap;

/// The object the asked person ends with.
pub fn solve(input: &str) -> Result<String, String> {
    let (_, after_colon) = input.split_once(": ").ok_or("expected `...: A has the x, ...`")?;
    let (start, rest) = after_colon.split_once(". They then trade").ok_or("expected `. They then trade`")?;
    let mut holds: HashMap<&str, &str> = HashMap::new();
    for part in start.split(", ") {
        let (who, what) = part.split_once(" has the ").ok_or(format!("cannot read `{part}`"))?;
        holds.insert(who, what);
    }
    let (trades, asked) = rest.rsplit_once(" After all trades, ").ok_or("expected `After all trades, ...`")?;
    for sentence in trades.split(". ").skip(1) {
        // "First, A and B trade hats" / "Next, ..." / "Finally, ...".
        let (_, pair) = sentence.split_once(", ").ok_or(format!("cannot read trade `{sentence}`"))?;
        let (a, rest) = pair.split_once(" and ").ok_or(format!("cannot read trade `{sentence}`"))?;
        let (b, _) = rest.split_once(" trade ").ok_or(format!("cannot read trade `{sentence}`"))?;
        let (xa, xb) =
            (*holds.get(a).ok_or(format!("{a} holds nothing"))?, *holds.get(b).ok_or(format!("{b} holds nothing"))?);
        holds.insert(a, xb);
        holds.insert(b, xa);
    }
    let who = asked.strip_suffix(" holds the").ok_or("expected `... holds the` at the end")?;
    holds.get(who).map(|s| s.to_string()).ok_or(format!("{who} is not in the game"))
}

#[cfg(test)]
mod tests {
    use super::solve;

    #[test]
    fn replays_trades() {
        let story = "A, B and C each hold one hat: A has the red hat, B has the blue hat, C has the green hat. \
                     They then trade, one pair at a time. First, A and B trade hats. Finally, B and C trade hats. \
                     After all trades, C holds the";
        assert_eq!(solve(story).unwrap(), "red hat");
    }
}
