//! Boolean expressions over `True`/`False` with `not`, `and`, `or` and parentheses, written with
//! Python's precedence (not > and > or). The answer is `True` or `False`.

use rand::Rng as _;
use rand_chacha::ChaCha8Rng;

use super::Generator;
use crate::tasks::task::{AnswerType, TextExample};

/// Expressions of up to `max_depth` nested operators.
#[derive(Clone, Debug)]
pub struct BooleanExpressions {
    pub max_depth: u32,
}

impl Default for BooleanExpressions {
    fn default() -> Self {
        Self { max_depth: 3 }
    }
}

enum Expr {
    Lit(bool),
    Not(Box<Expr>),
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
}

impl Expr {
    fn random(rng: &mut ChaCha8Rng, depth: u32) -> Expr {
        if depth == 0 || rng.random_bool(0.25) {
            return Expr::Lit(rng.random_bool(0.5));
        }
        let kind = rng.random_range(0..5);
        let mut sub = || Box::new(Expr::random(rng, depth - 1));
        match kind {
            0 => Expr::Not(sub()),
            1 | 2 => Expr::And(sub(), sub()),
            _ => Expr::Or(sub(), sub()),
        }
    }

    fn value(&self) -> bool {
        match self {
            Expr::Lit(b) => *b,
            Expr::Not(e) => !e.value(),
            Expr::And(a, b) => a.value() && b.value(),
            Expr::Or(a, b) => a.value() || b.value(),
        }
    }

    /// Binding strength: a child binding less tightly than its parent needs parentheses.
    fn precedence(&self) -> u8 {
        match self {
            Expr::Or(..) => 1,
            Expr::And(..) => 2,
            Expr::Not(_) => 3,
            Expr::Lit(_) => 4,
        }
    }

    /// Write the expression; parentheses where precedence needs them, and sometimes where not.
    fn render(&self, rng: &mut ChaCha8Rng, parent: u8, out: &mut Vec<String>) {
        let needed = self.precedence() < parent;
        let paren = needed || (self.precedence() < 4 && rng.random_bool(0.3));
        if paren {
            out.push("(".into());
        }
        match self {
            Expr::Lit(b) => out.push(if *b { "True" } else { "False" }.into()),
            Expr::Not(e) => {
                out.push("not".into());
                e.render(rng, 3, out);
            }
            Expr::And(a, b) | Expr::Or(a, b) => {
                let p = self.precedence();
                a.render(rng, p, out);
                out.push(if p == 2 { "and" } else { "or" }.into());
                b.render(rng, p, out);
            }
        }
        if paren {
            out.push(")".into());
        }
    }
}

impl Generator for BooleanExpressions {
    fn name(&self) -> &'static str {
        "boolean_expressions"
    }

    fn answer(&self) -> AnswerType {
        AnswerType::Labels(vec!["True".into(), "False".into()])
    }

    fn sample(&self, rng: &mut ChaCha8Rng) -> TextExample {
        let expr = Expr::random(rng, self.max_depth);
        let mut tokens = Vec::new();
        expr.render(rng, 0, &mut tokens);
        let text = tokens.join(" ").replace("( ", "(").replace(" )", ")");
        TextExample::new(format!("{text} is"), if expr.value() { "True" } else { "False" })
    }
}
