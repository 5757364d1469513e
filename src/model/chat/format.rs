//! Our own chat formats, for models that carry no chat template: one file per format under
//! `prompts/chat/` (its README describes the file format), compiled into the binary so that
//! nothing is read at run time.

use anyhow::{Context as _, anyhow, bail};

/// Every chat format file, by name.
pub const FORMATS: [(&str, &str); 3] = [
    ("smollm2", include_str!("../../../prompts/chat/smollm2.txt")),
    ("gemma", include_str!("../../../prompts/chat/gemma.txt")),
    ("plain", include_str!("../../../prompts/chat/plain.txt")),
];

/// The format used when a model has no chat template and no format lists its architecture.
pub const FALLBACK: &str = "plain";

const PROMPT: &str = "{prompt}";
const ANSWER: &str = "{answer}";

/// One chat format (the parsed text of `prompts/chat/<name>.txt`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChatFormat {
    name: String,
    /// Text with one `{prompt}`: a user turn and the start of the model's turn.
    prompt: String,
    /// Text with one `{answer}`, then the end-of-turn marker.
    answer: String,
    /// `general.architecture` values that choose this format when a model has no chat template.
    architectures: Vec<String>,
    /// Strip whitespace around the prompt and the answer before inserting them.
    trim: bool,
}

impl ChatFormat {
    /// The format named `name` (a file of `prompts/chat/`).
    pub fn for_name(name: &str) -> anyhow::Result<Self> {
        let (file, text) = FORMATS
            .iter()
            .find(|(n, _)| *n == name)
            .with_context(|| format!("no chat format `{name}` (known: {})", FORMATS.map(|(n, _)| n).join(", ")))?;
        Self::parse(&format!("prompts/chat/{file}.txt"), text)
    }

    /// The format that lists `architecture` (a GGUF `general.architecture`), else [`FALLBACK`].
    pub fn for_architecture(architecture: &str) -> anyhow::Result<Self> {
        let formats = Self::all()?;
        match formats.into_iter().find(|f| f.architectures.iter().any(|a| a == architecture)) {
            Some(format) => Ok(format),
            None => Self::for_name(FALLBACK),
        }
    }

    /// Every compiled-in format.
    pub fn all() -> anyhow::Result<Vec<Self>> {
        FORMATS.iter().map(|(name, _)| Self::for_name(name)).collect()
    }

    /// Parse a format file; `path` only names it in errors.
    pub fn parse(path: &str, text: &str) -> anyhow::Result<Self> {
        let mut format = Self {
            name: String::new(),
            prompt: String::new(),
            answer: String::new(),
            architectures: Vec::new(),
            trim: false,
        };
        let (mut name, mut prompt, mut answer) = (None, None, None);
        for (number, line) in text.lines().enumerate() {
            let at = || format!("{path}:{}", number + 1);
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (key, value) =
                line.split_once('=').with_context(|| format!("{}: expected `key = value`, got {line:?}", at()))?;
            let value = unescape(value.trim()).with_context(at)?;
            let once = |slot: &mut Option<String>| match slot.replace(value.clone()) {
                Some(_) => Err(anyhow!("{}: `{}` is given twice", at(), key.trim())),
                None => Ok(()),
            };
            match key.trim() {
                "name" => once(&mut name)?,
                "prompt" => once(&mut prompt)?,
                "answer" => once(&mut answer)?,
                "architectures" => format.architectures.extend(value.split_whitespace().map(str::to_string)),
                "trim" => {
                    format.trim =
                        value.parse().map_err(|_| anyhow!("{}: trim: expected true or false, got {value:?}", at()))?
                }
                other => bail!("{}: unknown key `{other}` (known: name, prompt, answer, architectures, trim)", at()),
            }
        }
        let required = |slot: Option<String>, key: &str| slot.with_context(|| format!("{path}: `{key}` is missing"));
        format.name = required(name, "name")?;
        format.prompt = required(prompt, "prompt")?;
        format.answer = required(answer, "answer")?;
        for (key, text, placeholder) in [("prompt", &format.prompt, PROMPT), ("answer", &format.answer, ANSWER)] {
            if text.matches(placeholder).count() != 1 {
                bail!("{path}: `{key}` must contain {placeholder} exactly once, got {text:?}");
            }
        }
        Ok(format)
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// One user turn holding `prompt`, then what starts the model's answer.
    pub fn user_turn(&self, prompt: &str) -> String {
        self.prompt.replacen(PROMPT, self.clean(prompt), 1)
    }

    /// The prompt part ([`Self::user_turn`]) and the answer part (the answer and the end-of-turn marker).
    pub fn with_answer(&self, prompt: &str, answer: &str) -> (String, String) {
        (self.user_turn(prompt), self.answer.replacen(ANSWER, self.clean(answer), 1))
    }

    /// The text after `{answer}`.
    pub fn end_of_turn(&self) -> &str {
        let at = self.answer.find(ANSWER).expect("checked by parse");
        &self.answer[at + ANSWER.len()..]
    }

    fn clean<'a>(&self, text: &'a str) -> &'a str {
        if self.trim { text.trim() } else { text }
    }
}

/// `\n`, `\t` and `\\` in a value.
fn unescape(value: &str) -> anyhow::Result<String> {
    let mut out = String::with_capacity(value.len());
    let mut chars = value.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('\\') => out.push('\\'),
            other => {
                bail!("unknown escape `\\{}` (known: \\n, \\t, \\\\)", other.map(String::from).unwrap_or_default())
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_format_parses_and_is_named_after_its_file() {
        for (file, _) in FORMATS {
            assert_eq!(ChatFormat::for_name(file).unwrap().name(), file);
        }
    }

    #[test]
    fn values_are_unescaped_and_the_placeholders_filled_once() {
        let f = ChatFormat::parse("t.txt", "name = t\nprompt = a\\n{prompt}\\t\\\\\nanswer = {answer}<end>\n").unwrap();
        assert_eq!(f.user_turn("{answer}"), "a\n{answer}\t\\");
        assert_eq!(f.with_answer("p", "x {prompt}").1, "x {prompt}<end>");
        assert_eq!(f.end_of_turn(), "<end>");
    }

    #[test]
    fn trim_strips_the_prompt_and_the_answer() {
        let gemma = ChatFormat::for_name("gemma").unwrap();
        let (prompt, answer) = gemma.with_answer("\n Hi \n", " Paris.\n");
        assert_eq!(prompt, "<start_of_turn>user\nHi<end_of_turn>\n<start_of_turn>model\n");
        assert_eq!(answer, "Paris.<end_of_turn>");
        let plain = ChatFormat::for_name("plain").unwrap();
        assert_eq!(plain.with_answer(" Hi", "4"), (" Hi\n".to_string(), "4\n".to_string()));
    }

    #[test]
    fn errors_name_the_file_line_and_problem() {
        let err = |text: &str| ChatFormat::parse("x.txt", text).unwrap_err().to_string();
        assert_eq!(err("name = x\nprompt {prompt}"), "x.txt:2: expected `key = value`, got \"prompt {prompt}\"");
        assert_eq!(err("name = x\nanswer = {answer}"), "x.txt: `prompt` is missing");
        assert!(err("name = x\nprompt = p\nanswer = {answer}").contains("`prompt` must contain {prompt} exactly once"));
        assert!(err("name = x\nname = y").starts_with("x.txt:2: `name` is given twice"));
        assert!(err("colour = red").starts_with("x.txt:1: unknown key `colour`"));
        assert!(err("prompt = \\q").starts_with("x.txt:1"));
        assert!(ChatFormat::for_name("llama9").unwrap_err().to_string().contains("known: smollm2, gemma, plain"));
    }

    #[test]
    fn architecture_picks_a_format_else_plain() {
        assert_eq!(ChatFormat::for_architecture("gemma3").unwrap().name(), "gemma");
        assert_eq!(ChatFormat::for_architecture("llama").unwrap().name(), "plain");
    }
}
