//! web_of_lies by the parity rule: the last person is truthful exactly when an even number of
//! the chain's statements say "lies".

/// `Yes`/`No` for a chain "A lies. B says A tells the truth. ... Does Z tell the truth?".
pub fn solve(input: &str) -> Result<String, String> {
    let (chain, question) = input.rsplit_once(" Does ").ok_or("no question `Does ... tell the truth?`")?;
    let asked = question.strip_suffix(" tell the truth?").ok_or("question does not end with `tell the truth?`")?;
    let statements: Vec<&str> = chain.split(". ").map(|s| s.trim_end_matches('.')).collect();
    let mut negations = 0;
    for s in &statements {
        if s.ends_with(" lies") {
            negations += 1;
        } else if !s.ends_with(" tells the truth") {
            return Err(format!("cannot read statement `{s}`"));
        }
    }
    let last = statements.last().ok_or("no statements")?;
    if !last.starts_with(&format!("{asked} ")) {
        return Err(format!("the question asks about {asked}, who did not speak last"));
    }
    Ok(if negations % 2 == 0 { "Yes" } else { "No" }.to_string())
}

#[cfg(test)]
mod tests {
    use super::solve;

    #[test]
    fn parity_rule() {
        assert_eq!(solve("Ada lies. Bo says Ada lies. Does Bo tell the truth?").unwrap(), "Yes");
        assert_eq!(solve("Ada tells the truth. Bo says Ada lies. Does Bo tell the truth?").unwrap(), "No");
        assert!(solve("Ada lies. Does Cy tell the truth?").is_err());
    }
}
