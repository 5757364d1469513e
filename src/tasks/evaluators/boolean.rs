//! A recursive-descent parser for Python-style boolean expressions (`or` < `and` < `not`).

struct Parser<'a> {
    tokens: Vec<&'a str>,
    pos: usize,
}

impl<'a> Parser<'a> {
    fn peek(&self) -> Option<&'a str> {
        self.tokens.get(self.pos).copied()
    }

    fn next(&mut self) -> Result<&'a str, String> {
        let t = self.peek().ok_or("unexpected end of expression")?;
        self.pos += 1;
        Ok(t)
    }

    fn or_expr(&mut self) -> Result<bool, String> {
        let mut v = self.and_expr()?;
        while self.peek() == Some("or") {
            self.pos += 1;
            let rhs = self.and_expr()?;
            v = v || rhs;
        }
        Ok(v)
    }

    fn and_expr(&mut self) -> Result<bool, String> {
        let mut v = self.not_expr()?;
        while self.peek() == Some("and") {
            self.pos += 1;
            let rhs = self.not_expr()?;
            v = v && rhs;
        }
        Ok(v)
    }

    fn not_expr(&mut self) -> Result<bool, String> {
        if self.peek() == Some("not") {
            self.pos += 1;
            return Ok(!self.not_expr()?);
        }
        match self.next()? {
            "True" => Ok(true),
            "False" => Ok(false),
            "(" => {
                let v = self.or_expr()?;
                match self.next()? {
                    ")" => Ok(v),
                    t => Err(format!("expected `)`, found `{t}`")),
                }
            }
            t => Err(format!("unexpected token `{t}`")),
        }
    }
}

/// Value of `<expression> is` as `True`/`False`.
pub fn solve(input: &str) -> Result<String, String> {
    let expr = input.trim().strip_suffix(" is").ok_or("expected the expression to end with ` is`")?;
    let spaced = expr.replace('(', " ( ").replace(')', " ) ");
    let mut parser = Parser { tokens: spaced.split_whitespace().collect(), pos: 0 };
    let value = parser.or_expr()?;
    if let Some(t) = parser.peek() {
        return Err(format!("trailing token `{t}`"));
    }
    Ok(if value { "True" } else { "False" }.to_string())
}

#[cfg(test)]
mod tests {
    use super::solve;

    #[test]
    fn follows_python_precedence() {
        assert_eq!(solve("not True or True is").unwrap(), "True");
        assert_eq!(solve("not (True or True) is").unwrap(), "False");
        assert_eq!(solve("True or False and False is").unwrap(), "True");
        assert_eq!(solve("(True or False) and False is").unwrap(), "False");
        assert_eq!(solve("not not False is").unwrap(), "False");
        assert!(solve("True and is").is_err());
    }
}
