//! A precedence-climbing evaluator for integer expressions with `+ - *`, parentheses and
//! negative literals.

#[derive(Clone, Copy, Debug, PartialEq)]
enum Tok {
    Num(i64),
    Op(char),
    Open,
    Close,
}

fn tokenize(text: &str) -> Result<Vec<Tok>, String> {
    let mut out = Vec::new();
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let prev_is_value = matches!(out.last(), Some(Tok::Num(_)) | Some(Tok::Close));
        match c {
            ' ' => i += 1,
            '(' => {
                out.push(Tok::Open);
                i += 1;
            }
            ')' => {
                out.push(Tok::Close);
                i += 1;
            }
            '-' if !prev_is_value => {
                // A negative literal.
                let start = i;
                i += 1;
                while i < chars.len() && chars[i].is_ascii_digit() {
                    i += 1;
                }
                let s: String = chars[start..i].iter().collect();
                out.push(Tok::Num(s.parse().map_err(|_| format!("bad number `{s}`"))?));
            }
            '+' | '-' | '*' => {
                out.push(Tok::Op(c));
                i += 1;
            }
            d if d.is_ascii_digit() => {
                let start = i;
                while i < chars.len() && chars[i].is_ascii_digit() {
                    i += 1;
                }
                let s: String = chars[start..i].iter().collect();
                out.push(Tok::Num(s.parse().map_err(|_| format!("bad number `{s}`"))?));
            }
            other => return Err(format!("unexpected character `{other}`")),
        }
    }
    Ok(out)
}

fn binding(op: char) -> u8 {
    if op == '*' { 2 } else { 1 }
}

fn primary(toks: &[Tok], pos: &mut usize) -> Result<i64, String> {
    match toks.get(*pos) {
        Some(Tok::Num(n)) => {
            *pos += 1;
            Ok(*n)
        }
        Some(Tok::Open) => {
            *pos += 1;
            let v = expr(toks, pos, 1)?;
            if toks.get(*pos) != Some(&Tok::Close) {
                return Err("missing `)`".into());
            }
            *pos += 1;
            Ok(v)
        }
        t => Err(format!("expected a number or `(`, found {t:?}")),
    }
}

fn expr(toks: &[Tok], pos: &mut usize, min: u8) -> Result<i64, String> {
    let mut lhs = primary(toks, pos)?;
    while let Some(Tok::Op(op)) = toks.get(*pos).copied() {
        if binding(op) < min {
            break;
        }
        *pos += 1;
        let rhs = expr(toks, pos, binding(op) + 1)?;
        lhs = match op {
            '+' => lhs.checked_add(rhs),
            '-' => lhs.checked_sub(rhs),
            _ => lhs.checked_mul(rhs),
        }
        .ok_or("overflow")?;
    }
    Ok(lhs)
}

/// Value of `<expression> =`.
pub fn solve(input: &str) -> Result<String, String> {
    let text = input.trim().strip_suffix('=').ok_or("expected the expression to end with `=`")?;
    let toks = tokenize(text)?;
    let mut pos = 0;
    let v = expr(&toks, &mut pos, 1)?;
    if pos != toks.len() {
        return Err(format!("trailing tokens after position {pos}"));
    }
    Ok(v.to_string())
}

#[cfg(test)]
mod tests {
    use super::solve;

    #[test]
    fn precedence_and_negatives() {
        assert_eq!(solve("((3 + -4) * (7 - 2)) =").unwrap(), "-5");
        assert_eq!(solve("1 + 2 * 3 =").unwrap(), "7");
        assert_eq!(solve("(-2 - -3) =").unwrap(), "1");
        assert!(solve("(1 + ) =").is_err());
    }
}
