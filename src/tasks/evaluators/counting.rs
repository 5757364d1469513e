//! Count the things of the asked category in "I own a plum, two carrots and a goat. How many ...".

use crate::tasks::generators::object_counting::{CATEGORIES, NUMBER_WORDS};

/// The count, in digits.
pub fn solve(input: &str) -> Result<String, String> {
    let rest = input.strip_prefix("I own ").ok_or("expected `I own ...`")?;
    let (list, question) = rest.split_once(". How many ").ok_or("expected `. How many ...`")?;
    let category = question.strip_suffix(" do I own?").ok_or("expected the question to end `do I own?`")?;
    let cat = CATEGORIES.iter().find(|c| c.name == category).ok_or(format!("unknown category `{category}`"))?;
    let mut total = 0usize;
    for phrase in list.split(", ").flat_map(|p| p.split(" and ")) {
        let (quantity, item) = phrase.split_once(' ').ok_or(format!("cannot read `{phrase}`"))?;
        let n = match quantity {
            "a" | "an" => 1,
            word => NUMBER_WORDS.iter().position(|w| *w == word).ok_or(format!("unknown number `{word}`"))?,
        };
        let known = CATEGORIES.iter().flat_map(|c| c.items).any(|(one, many)| *one == item || *many == item);
        if !known {
            return Err(format!("unknown thing `{item}`"));
        }
        if cat.items.iter().any(|(one, many)| *one == item || *many == item) {
            total += n;
        }
    }
    Ok(total.to_string())
}

#[cfg(test)]
mod tests {
    use super::solve;

    #[test]
    fn counts_only_the_category() {
        assert_eq!(solve("I own a plum, two carrots and three goats. How many animals do I own?").unwrap(), "3");
        assert_eq!(solve("I own an apple and a pear. How many fruits do I own?").unwrap(), "2");
        assert!(solve("I own a spaceship. How many fruits do I own?").is_err());
    }
}
