//! Solvers for the two control tasks: key-value lookup and letter substitution.

use std::collections::HashMap;

/// The value of the queried key in "k: v\n...\nQuery key: k".
pub fn solve_kv(input: &str) -> Result<String, String> {
    let (table, key) = input.rsplit_once("\nQuery key: ").ok_or("expected a final `Query key: ...` line")?;
    let mut found = None;
    for line in table.lines() {
        let (k, v) = line.split_once(": ").ok_or(format!("cannot read row `{line}`"))?;
        if k == key {
            if found.is_some() {
                return Err(format!("key `{key}` appears twice"));
            }
            found = Some(v.to_string());
        }
    }
    found.ok_or(format!("key `{key}` is not in the table"))
}

/// The word rewritten with "Table: a -> q, b -> z\nWord: ab".
pub fn solve_mapping(input: &str) -> Result<String, String> {
    let (table, word) = input.split_once("\nWord: ").ok_or("expected a `Word: ...` line")?;
    let table = table.strip_prefix("Table: ").ok_or("expected `Table: ...`")?;
    let mut map = HashMap::new();
    for row in table.split(", ") {
        let (from, to) = row.split_once(" -> ").ok_or(format!("cannot read `{row}`"))?;
        let (mut f, mut t) = (from.chars(), to.chars());
        match (f.next(), f.next(), t.next(), t.next()) {
            (Some(a), None, Some(b), None) => {
                map.insert(a, b);
            }
            _ => return Err(format!("`{row}` is not one letter to one letter")),
        }
    }
    word.chars().map(|c| map.get(&c).copied().ok_or(format!("no row for `{c}`"))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookups() {
        assert_eq!(solve_kv("abc: 1\nxyz: 2\nQuery key: xyz").unwrap(), "2");
        assert!(solve_kv("abc: 1\nQuery key: q").is_err());
        assert_eq!(solve_mapping("Table: a -> q, b -> z\nWord: aba").unwrap(), "qzq");
        assert!(solve_mapping("Table: a -> q\nWord: ab").is_err());
    }
}
