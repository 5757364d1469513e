//! A practitioner's examples as JSON Lines: one object per line with `prompt` (the user's text)
//! and, once annotated, `answer` (a string); every other field is kept and passed through.
//! Blank lines are skipped; anything else that is not such an object is an error naming the
//! file, the line and the field.

use std::path::Path;

use anyhow::{Context as _, bail};
use serde_json::{Map, Value};

/// One line of a pool.
#[derive(Clone, Debug, PartialEq)]
pub struct PoolLine {
    /// 1-based line number in the file.
    pub line: usize,
    pub prompt: String,
    pub answer: Option<String>,
    /// The whole object, as read (written back with fields added).
    pub object: Map<String, Value>,
}

/// Read `path`; with `need_answer`, every line must have a non-empty `answer`.
pub fn read(path: &Path, need_answer: bool) -> anyhow::Result<Vec<PoolLine>> {
    let text = std::fs::read_to_string(path).with_context(|| format!("{}: cannot read", path.display()))?;
    parse(&text, need_answer).map_err(|e| anyhow::anyhow!("{}:{e}", path.display()))
}

/// The lines of a JSONL text; errors start with `<line>: `.
pub fn parse(text: &str, need_answer: bool) -> anyhow::Result<Vec<PoolLine>> {
    let mut out = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = i + 1;
        if raw.trim().is_empty() {
            continue;
        }
        let value: Value = crate::json::parse(raw).map_err(|e| anyhow::anyhow!("{line}: {}", e.what()))?;
        let Value::Object(object) = value else {
            bail!("{line}: expected a JSON object with a `prompt` field, got {}", kind(&value));
        };
        let prompt = match object.get("prompt") {
            Some(Value::String(s)) if !s.trim().is_empty() => s.clone(),
            Some(Value::String(_)) => bail!("{line}: field `prompt` is empty"),
            Some(other) => bail!("{line}: field `prompt` must be a string, got {}", kind(other)),
            None => bail!("{line}: field `prompt` is missing (each line needs {{\"prompt\": \"...\"}})"),
        };
        let answer = match object.get("answer") {
            Some(Value::String(s)) if s.trim().is_empty() => bail!("{line}: field `answer` is empty"),
            Some(Value::String(s)) => Some(s.clone()),
            Some(Value::Null) | None if !need_answer => None,
            Some(Value::Null) | None => bail!("{line}: field `answer` is missing (annotate it: {{\"prompt\": ..., \"answer\": \"...\"}})"),
            Some(other) => bail!("{line}: field `answer` must be a string, got {}", kind(other)),
        };
        out.push(PoolLine { line, prompt, answer, object });
    }
    if out.is_empty() {
        bail!("1: no examples (the file is empty)");
    }
    Ok(out)
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_pass_through_and_errors_name_line_and_field() {
        let lines = parse("{\"prompt\": \"a\", \"id\": 7}\n\n{\"prompt\": \"b\", \"answer\": \"yes\"}\n", false).unwrap();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0].object["id"], 7);
        assert_eq!((lines[1].line, lines[1].answer.as_deref()), (3, Some("yes")));
        let err = |text: &str, need: bool| parse(text, need).unwrap_err().to_string();
        assert!(err("{\"prompt\": 3}", false).starts_with("1: field `prompt` must be a string"));
        assert!(err("{\"prompt\": \"a\"}\n{\"text\": \"b\"}", false).starts_with("2: field `prompt` is missing"));
        assert!(err("{\"prompt\": \"a\"}", true).starts_with("1: field `answer` is missing"));
        assert!(err("{\"prompt\": \"a\", \"answer\": \" \"}", false).starts_with("1: field `answer` is empty"));
        assert!(err("[1]", false).starts_with("1: expected a JSON object"));
        assert!(err("{\"prompt\": ", false).starts_with("1: not valid JSON"));
        assert!(err("", false).contains("no examples"));
    }
}
