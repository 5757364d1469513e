//! Chat templates: how a prompt and an answer are written out for a model. A model that carries
//! its own Jinja chat template (a GGUF's `tokenizer.chat_template`, an HF checkpoint's
//! `tokenizer_config.json` `chat_template` or `chat_template.jinja`) is rendered with it
//! ([`jinja`]); a model without one gets one of our formats ([`format`], `prompts/chat/`), picked
//! by its architecture. `--chat-format` ([`ChatChoice`]) overrides the choice.

pub mod format;
pub mod jinja;

use std::path::Path;
use std::str::FromStr;

use anyhow::{Context as _, bail};

pub use format::{ChatFormat, FALLBACK, FORMATS};
pub use jinja::{JinjaTemplate, Message, SpecialTokens};

use super::gguf::GgufFile;
use super::tokenizer::ModelTokenizer;

/// Which chat template to use (`--chat-format`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum ChatChoice {
    /// The model's own template when it has one, else our format for its architecture, else `plain`.
    #[default]
    Auto,
    /// The model's own template; a model without one is an error.
    Template,
    /// One of our formats (`prompts/chat/<name>.txt`), whatever the model carries.
    Format(String),
}

impl FromStr for ChatChoice {
    type Err = anyhow::Error;

    fn from_str(name: &str) -> anyhow::Result<Self> {
        match name {
            "auto" => Ok(Self::Auto),
            "template" => Ok(Self::Template),
            name if FORMATS.iter().any(|(n, _)| *n == name) => Ok(Self::Format(name.to_string())),
            other => bail!("unknown chat format `{other}` (known: auto, template, {})", our_names()),
        }
    }
}

/// Our formats' names, for messages.
fn our_names() -> String {
    FORMATS.map(|(n, _)| n).join(", ")
}

/// A model's chat template: its own, or one of ours.
#[derive(Clone, Debug)]
pub enum ChatTemplate {
    /// The model's own Jinja template.
    Jinja(JinjaTemplate),
    /// One of `prompts/chat/`.
    Format(ChatFormat),
}

impl ChatTemplate {
    /// Our format named `name` (a file of `prompts/chat/`).
    pub fn for_name(name: &str) -> anyhow::Result<Self> {
        ChatFormat::for_name(name).map(Self::Format)
    }

    /// The template [`ChatChoice::Auto`] picks for a GGUF model (its tokenizer is built to know
    /// the special tokens the template writes).
    pub fn for_gguf(path: &Path) -> anyhow::Result<Self> {
        let file = GgufFile::open(path)?;
        Self::for_gguf_file(&file, &ModelTokenizer::from_gguf_file(&file)?, &ChatChoice::Auto)
    }

    /// The template `choice` picks for a GGUF file whose header is already read (as
    /// [`super::load`] has it): `tokenizer.chat_template`, or by `general.architecture`.
    pub fn for_gguf_file(file: &GgufFile, tokenizer: &ModelTokenizer, choice: &ChatChoice) -> anyhow::Result<Self> {
        let meta = file.metadata();
        let architecture = meta.opt_string("general.architecture")?.unwrap_or("");
        // A format named outright needs nothing from the file (a malformed template included).
        let own = match choice {
            ChatChoice::Format(_) => None,
            _ => meta.opt_string("tokenizer.chat_template")?,
        };
        let origin = format!("{}: tokenizer.chat_template", file.path().display());
        Self::choose(choice, own.map(|source| (source, origin.as_str())), architecture, SpecialTokens::of(tokenizer))
            .with_context(|| format!("choosing the chat template of {}", file.path().display()))
    }

    /// The template `choice` picks, given the model's own (its source, and where it came from) if
    /// any, and the special tokens that one may write.
    pub fn choose(
        choice: &ChatChoice,
        own: Option<(&str, &str)>,
        architecture: &str,
        tokens: SpecialTokens,
    ) -> anyhow::Result<Self> {
        let jinja = |(source, origin): (&str, &str)| JinjaTemplate::new(source, origin, tokens);
        Ok(match (choice, own) {
            (ChatChoice::Format(name), _) => Self::for_name(name)?,
            (ChatChoice::Auto | ChatChoice::Template, Some(own)) => Self::Jinja(jinja(own).with_context(|| {
                format!("the model's own chat template fails (--chat-format picks one of ours: {})", our_names())
            })?),
            (ChatChoice::Template, None) => bail!(
                "the model has no chat template of its own; name one of ours with --chat-format ({})",
                our_names()
            ),
            (ChatChoice::Auto, None) => Self::Format(ChatFormat::for_architecture(architecture)?),
        })
    }

    /// `template` for the model's own, else our format's name.
    pub fn name(&self) -> &str {
        match self {
            Self::Jinja(_) => "template",
            Self::Format(format) => format.name(),
        }
    }

    /// One user turn holding `prompt`, then what starts the model's answer (the generation
    /// prompt): the text to encode with `ModelTokenizer::encode_prompt`.
    ///
    /// A model's own template has rendered a user turn when it was loaded; should it raise on
    /// this prompt's text (no template we know does), the error carries the template's message.
    pub fn user_turn(&self, prompt: &str) -> anyhow::Result<String> {
        match self {
            Self::Jinja(template) => template.user_turn(prompt),
            Self::Format(format) => Ok(format.user_turn(prompt)),
        }
    }

    /// The two parts of a training example: the prompt part ([`Self::user_turn`]) and the answer
    /// part (the answer and the end-of-turn marker), which alone carries the loss. The answer
    /// starts where the prompt part ends. Fails as [`Self::user_turn`] does.
    pub fn with_answer(&self, prompt: &str, answer: &str) -> anyhow::Result<(String, String)> {
        match self {
            Self::Jinja(template) => template.with_answer(prompt, answer),
            Self::Format(format) => Ok(format.with_answer(prompt, answer)),
        }
    }

    /// The text that ends the model's turn (`<|im_end|>`, `<end_of_turn>`, a newline). The
    /// newline a template writes after it (ChatML's `<|im_end|>\n`) is left out: the model has
    /// stopped before it.
    pub fn end_of_turn(&self) -> &str {
        match self {
            Self::Jinja(template) => template.end_of_turn(),
            Self::Format(format) => format.end_of_turn(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chat_choice_names() {
        assert_eq!("auto".parse::<ChatChoice>().unwrap(), ChatChoice::Auto);
        assert_eq!("template".parse::<ChatChoice>().unwrap(), ChatChoice::Template);
        assert_eq!("gemma".parse::<ChatChoice>().unwrap(), ChatChoice::Format("gemma".into()));
        let err = "chatml".parse::<ChatChoice>().unwrap_err().to_string();
        assert_eq!(err, "unknown chat format `chatml` (known: auto, template, smollm2, gemma, plain)");
    }

    #[test]
    fn the_model_s_own_template_first_unless_a_format_is_named() {
        let own = Some(("{% for m in messages %}<{{ m.role }}>{{ m.content }}</{{ m.role }}>{% endfor %}", "t.gguf"));
        let choose = |choice: &str, own, arch| {
            ChatTemplate::choose(&choice.parse().unwrap(), own, arch, SpecialTokens::default())
        };
        assert_eq!(choose("auto", own, "llama").unwrap().user_turn("Hi").unwrap(), "<user>Hi</user>");
        assert_eq!(choose("template", own, "llama").unwrap().end_of_turn(), "</assistant>");
        assert_eq!(choose("auto", None, "gemma3").unwrap().name(), "gemma");
        assert_eq!(choose("auto", None, "llama").unwrap().name(), "plain");
        assert_eq!(choose("smollm2", own, "gemma3").unwrap().name(), "smollm2");
        let err = choose("template", None, "llama").unwrap_err().to_string();
        assert!(err.contains("no chat template of its own; name one of ours with --chat-format"), "{err}");
        let err =
            format!("{:#}", choose("auto", Some(("{{ raise_exception('no') }}", "t.gguf")), "llama").unwrap_err());
        assert!(err.contains("fails (--chat-format picks one of ours") && err.contains("t.gguf"), "{err}");
    }
}
