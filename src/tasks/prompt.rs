//! Prompt templates: our own wording, one data file per task under `prompts/tasks/<task>.txt`,
//! compiled into the binary so that a task never depends on the working directory.
//!
//! Placeholders: `{input}` (the example's text), `{options}` (one `- option` line each),
//! `{numbered_options}` (`0. option`, `1. option`, ...), and `{<field>}` for an example's named
//! fields (e.g. `{subject}`). A model's chat wrapper is separate data, applied later.

use super::task::TextExample;

/// A task's prompt template (the text of `prompts/tasks/<task>.txt`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PromptTemplate {
    /// Path relative to the repository root, for messages.
    pub path: String,
    pub text: String,
}

macro_rules! templates {
    ($($name:literal),* $(,)?) => {
        /// The template file of every task, by task name.
        pub const TEMPLATES: &[(&str, &str)] = &[
            $(($name, include_str!(concat!("../../prompts/tasks/", $name, ".txt")))),*
        ];
    };
}

templates!(
    "boolean_expressions",
    "web_of_lies",
    "object_counting",
    "object_counting_gen",
    "tracking_shuffled_objects",
    "tracking_shuffled_objects_gen",
    "multistep_arithmetic",
    "synthetic_random_kv",
    "synthetic_alphabet_mapping",
    "temporal_sequences",
    "hyperbaton",
    "mnist_ascii",
    "sports_understanding",
    "reasoning_about_colored_objects",
    "formal_fallacies_syllogisms_negation",
    "qa_wikidata",
    "disfl_qa",
    "mmlu",
);

impl PromptTemplate {
    /// The template of task `name` (`None` when `prompts/tasks/<name>.txt` was not compiled in).
    pub fn for_task(name: &str) -> Option<Self> {
        TEMPLATES.iter().find(|(n, _)| *n == name).map(|(n, text)| Self {
            path: format!("prompts/tasks/{n}.txt"),
            text: text.trim_end_matches('\n').to_string(),
        })
    }

    /// The placeholder names in the template, in order of appearance.
    pub fn placeholders(&self) -> Vec<&str> {
        let mut out = Vec::new();
        let mut rest = self.text.as_str();
        while let Some(start) = rest.find('{') {
            let after = &rest[start + 1..];
            match after.find('}') {
                Some(end) if after[..end].chars().all(|c| c.is_ascii_alphanumeric() || c == '_') && end > 0 => {
                    out.push(&after[..end]);
                    rest = &after[end + 1..];
                }
                _ => rest = after,
            }
        }
        out
    }

    /// The value of one placeholder for `example` (`None` when the example lacks it).
    fn value(example: &TextExample, name: &str) -> Option<String> {
        match name {
            "input" => Some(example.input.clone()),
            "options" => Some(example.options.iter().map(|o| format!("- {o}")).collect::<Vec<_>>().join("\n")),
            "numbered_options" => Some(
                example.options.iter().enumerate().map(|(i, o)| format!("{i}. {o}")).collect::<Vec<_>>().join("\n"),
            ),
            field => example.fields.iter().find(|(k, _)| k == field).map(|(_, v)| v.clone()),
        }
    }

    /// Check that every placeholder has a value for `example`; the error names the template file.
    pub fn check(&self, example: &TextExample) -> Result<(), String> {
        match self.placeholders().into_iter().find(|p| Self::value(example, p).is_none()) {
            Some(p) => Err(format!("{}: placeholder `{{{p}}}` has no value in the example", self.path)),
            None => Ok(()),
        }
    }

    /// The prompt for `example`. Placeholders are replaced in one left-to-right pass, so braces in
    /// the example's own text are never re-expanded.
    pub fn render(&self, example: &TextExample) -> String {
        let mut out = String::with_capacity(self.text.len() + example.input.len());
        let mut rest = self.text.as_str();
        while let Some(start) = rest.find('{') {
            out.push_str(&rest[..start]);
            let after = &rest[start + 1..];
            let value = after.find('}').and_then(|end| Self::value(example, &after[..end]).map(|v| (end, v)));
            match value {
                Some((end, v)) => {
                    out.push_str(&v);
                    rest = &after[end + 1..];
                }
                None => {
                    out.push('{');
                    rest = after;
                }
            }
        }
        out.push_str(rest);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_template_names_only_known_placeholders() {
        for (name, _) in TEMPLATES {
            let t = PromptTemplate::for_task(name).unwrap();
            assert!(t.placeholders().contains(&"input"), "{} lacks {{input}}", t.path);
            for p in t.placeholders() {
                assert!(matches!(p, "input" | "options" | "numbered_options" | "subject"), "{}: {p}", t.path);
            }
        }
    }

    #[test]
    fn render_does_not_reexpand_braces_in_the_input() {
        let t = PromptTemplate { path: "t".into(), text: "Q: {input}\n{options}".into() };
        let mut ex = TextExample::new("what is {options}?", "a");
        ex.options = vec!["a".into(), "b".into()];
        assert_eq!(t.render(&ex), "Q: what is {options}?\n- a\n- b");
        assert!(t.check(&ex).is_ok());
        let t = PromptTemplate { path: "x.txt".into(), text: "{subject}: {input}".into() };
        assert!(t.check(&ex).unwrap_err().contains("x.txt"));
    }
}
