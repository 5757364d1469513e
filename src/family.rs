//! The three model families whose fine-tuning results the paper publishes.

use std::fmt;
use std::str::FromStr;

/// A model family of the paper. The file prefix is the one the authors' result files use.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Family {
    Llama,
    Mistral,
    Qwen,
}

impl Family {
    pub const ALL: [Family; 3] = [Family::Llama, Family::Mistral, Family::Qwen];

    /// Prefix of the authors' result files (`<prefix>_<task>_full_result_v2.json`).
    pub fn prefix(self) -> &'static str {
        match self {
            Family::Llama => "llama",
            Family::Mistral => "mistral",
            Family::Qwen => "qwen",
        }
    }

    /// The instruct model the paper fine-tuned for this family.
    pub fn model(self) -> &'static str {
        match self {
            Family::Llama => "Llama-3.1-8B-Instruct",
            Family::Mistral => "Mistral-7B-Instruct-v0.3",
            Family::Qwen => "Qwen-2.5-14B-Instruct",
        }
    }
}

impl fmt::Display for Family {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.prefix())
    }
}

impl FromStr for Family {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Family::ALL
            .into_iter()
            .find(|f| f.prefix().eq_ignore_ascii_case(s))
            .ok_or_else(|| format!("unknown model family `{s}`: expected one of llama, mistral, qwen"))
    }
}
