//! A results table rendered three ways: markdown (the report), CSV (results/, full precision) and
//! a snapshot text (CSV with numbers rounded to 1e-9, so a snapshot diff reads like a results diff).

/// One cell of a table.
#[derive(Clone, Debug, PartialEq)]
pub enum Cell {
    Text(String),
    /// A number and the decimals to show in markdown.
    Num(f64, usize),
    Int(i64),
    /// A small number shown in scientific notation in markdown (e.g. a difference of 1e-16).
    Sci(f64),
    /// No value (e.g. a correlation that is undefined, a budget never reached).
    Empty,
}

impl Cell {
    pub fn text(s: impl Into<String>) -> Cell {
        Cell::Text(s.into())
    }

    fn render(&self, number: impl Fn(f64, usize) -> String) -> String {
        match self {
            Cell::Text(s) => s.clone(),
            Cell::Num(v, _) if v.is_nan() => String::new(),
            Cell::Num(v, d) => number(*v, *d),
            Cell::Int(i) => i.to_string(),
            Cell::Sci(v) => number(*v, usize::MAX),
            Cell::Empty => String::new(),
        }
    }
}

impl From<f64> for Cell {
    fn from(v: f64) -> Cell {
        Cell::Num(v, 3)
    }
}

impl From<&str> for Cell {
    fn from(s: &str) -> Cell {
        Cell::Text(s.to_string())
    }
}

impl From<String> for Cell {
    fn from(s: String) -> Cell {
        Cell::Text(s)
    }
}

impl From<Option<f64>> for Cell {
    fn from(v: Option<f64>) -> Cell {
        v.map_or(Cell::Empty, Cell::from)
    }
}

/// A named table; its name is the file stem under `results/`.
#[derive(Clone, Debug, PartialEq)]
pub struct Table {
    pub name: String,
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Cell>>,
}

impl Table {
    pub fn new(name: impl Into<String>, columns: &[&str]) -> Table {
        Table { name: name.into(), columns: columns.iter().map(|c| c.to_string()).collect(), rows: Vec::new() }
    }

    pub fn push(&mut self, row: Vec<Cell>) {
        assert_eq!(row.len(), self.columns.len(), "table `{}`: row width must match its columns", self.name);
        self.rows.push(row);
    }

    /// Markdown, numbers at each cell's display precision.
    pub fn to_markdown(&self) -> String {
        let mut out = format!("| {} |\n", self.columns.join(" | "));
        out += &format!("|{}\n", self.columns.iter().map(|_| "---|").collect::<String>());
        for row in &self.rows {
            let cells: Vec<String> = row
                .iter()
                .map(|c| c.render(|v, d| if d == usize::MAX { format!("{v:.1e}") } else { format!("{v:.d$}") }))
                .collect();
            out += &format!("| {} |\n", cells.join(" | "));
        }
        out
    }

    fn to_csv_with(&self, number: impl Fn(f64, usize) -> String) -> String {
        let mut w = csv::Writer::from_writer(Vec::new());
        w.write_record(&self.columns).expect("writing to memory");
        for row in &self.rows {
            w.write_record(row.iter().map(|c| c.render(&number))).expect("writing to memory");
        }
        String::from_utf8(w.into_inner().expect("writing to memory")).expect("CSV of UTF-8 cells")
    }

    /// CSV with every number at full (shortest round-trip) precision.
    pub fn to_csv(&self) -> String {
        self.to_csv_with(|v, _| v.to_string())
    }

    /// CSV with numbers rounded to 1e-9, for insta snapshots.
    pub fn to_snapshot(&self) -> String {
        self.to_csv_with(|v, _| {
            let s = format!("{v:.9}");
            if s == "-0.000000000" { "0.000000000".to_string() } else { s }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_three_ways() {
        let mut t = Table::new("t", &["name", "value", "count"]);
        t.push(vec![Cell::text("a,b"), Cell::Num(1.0 / 3.0, 2), Cell::Int(3)]);
        t.push(vec![Cell::text("c"), Cell::Empty, Cell::Int(-1)]);
        assert_eq!(t.to_markdown(), "| name | value | count |\n|---|---|---|\n| a,b | 0.33 | 3 |\n| c |  | -1 |\n");
        assert_eq!(t.to_csv(), "name,value,count\n\"a,b\",0.3333333333333333,3\nc,,-1\n");
        assert_eq!(t.to_snapshot(), "name,value,count\n\"a,b\",0.333333333,3\nc,,-1\n");
    }
}
