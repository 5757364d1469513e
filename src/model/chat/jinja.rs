//! A model's own chat template: the Jinja text a Hugging Face checkpoint (`tokenizer_config.json`
//! `chat_template`) or a GGUF file (`tokenizer.chat_template`) carries, rendered by minijinja the
//! way transformers' `apply_chat_template` renders it with jinja2: blocks trimmed
//! (`trim_blocks`, `lstrip_blocks`), Python's string and dict methods (`.strip()`, `.startswith()`,
//! `.items()`), and in the context `messages` (each a `role` and a `content`),
//! `add_generation_prompt`, `bos_token`, `eos_token` and the function `raise_exception`.

use anyhow::{Context as _, anyhow, ensure};
use minijinja::syntax::SyntaxConfig;
use minijinja::{AutoEscape, Environment, Error, ErrorKind, Value, context};

use crate::model::tokenizer::ModelTokenizer;

/// One message of a conversation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Message<'a> {
    /// `system`, `user` or `assistant`.
    pub role: &'a str,
    pub content: &'a str,
}

impl<'a> Message<'a> {
    pub fn system(content: &'a str) -> Self {
        Self { role: "system", content }
    }

    pub fn user(content: &'a str) -> Self {
        Self { role: "user", content }
    }

    pub fn assistant(content: &'a str) -> Self {
        Self { role: "assistant", content }
    }
}

/// The special tokens a template may write, and whether the tokenizer adds BOS itself.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SpecialTokens {
    pub bos: Option<String>,
    pub eos: Option<String>,
    /// The tokenizer puts BOS before a prompt (`encode_prompt`), so a BOS the template writes
    /// first is left out of the rendered text: transformers tokenizes a rendered template
    /// without adding special tokens, which gives one BOS either way.
    pub tokenizer_adds_bos: bool,
}

impl SpecialTokens {
    /// BOS, the model's own EOS and `add_bos` of `tokenizer`.
    pub fn of(tokenizer: &ModelTokenizer) -> Self {
        Self {
            bos: tokenizer.bos().and_then(|id| tokenizer.token(id)),
            eos: tokenizer.eos().first().and_then(|&id| tokenizer.token(id)),
            tokenizer_adds_bos: tokenizer.add_bos(),
        }
    }
}

/// A prompt and an answer the template is tried on when it is loaded.
const PROBE_PROMPT: &str = "dataeff probe question";
const PROBE_ANSWER: &str = "dataeff probe answer";

/// A compiled chat template, checked on one user turn and its answer.
#[derive(Clone, Debug)]
pub struct JinjaTemplate {
    env: Environment<'static>,
    /// Where the template came from (`model.gguf: tokenizer.chat_template`); names it in errors.
    origin: String,
    tokens: SpecialTokens,
    /// What the template writes right after an answer, up to trailing whitespace (`<|im_end|>`).
    end_of_turn: String,
    /// The whitespace it writes after that (`\n`), which the model never generates.
    after_end_of_turn: String,
}

impl JinjaTemplate {
    /// Compile `source` (`origin` names it in errors) and try it on one user turn and its answer:
    /// a template that cannot render those, or whose generation prompt is not where the answer
    /// starts, is refused here rather than at the first prompt.
    pub fn new(source: &str, origin: &str, tokens: SpecialTokens) -> anyhow::Result<Self> {
        let mut env = Environment::new();
        let syntax = SyntaxConfig::builder().trim_blocks(true).lstrip_blocks(true).build()?;
        env.set_syntax(syntax);
        // The name would pick escaping by its extension (`tokenizer_config.json`: JSON).
        env.set_auto_escape_callback(|_| AutoEscape::None);
        env.set_unknown_method_callback(minijinja_contrib::pycompat::unknown_method_callback);
        env.add_function("raise_exception", |message: String| -> Result<Value, Error> {
            Err(Error::new(ErrorKind::InvalidOperation, message))
        });
        env.add_template_owned(origin.to_string(), source.to_string())
            .map_err(|e| anyhow!("{origin}: not a valid Jinja template: {e:#}"))?;
        let mut template = Self {
            env,
            origin: origin.to_string(),
            tokens,
            end_of_turn: String::new(),
            after_end_of_turn: String::new(),
        };
        let (_, answer) = template.split_answer(PROBE_PROMPT, PROBE_ANSWER)?;
        let after = answer.find(PROBE_ANSWER).map(|at| &answer[at + PROBE_ANSWER.len()..]).with_context(|| {
            format!("{origin}: the template does not write the assistant's message {PROBE_ANSWER:?}: got {answer:?}")
        })?;
        // A template that writes only whitespace after an answer ends the turn with it.
        let marker_len = match after.trim_end().len() {
            0 => after.len(),
            len => len,
        };
        template.end_of_turn = after[..marker_len].to_string();
        template.after_end_of_turn = after[marker_len..].to_string();
        Ok(template)
    }

    /// The text of `messages`, then the start of the assistant's turn if `add_generation_prompt`
    /// (without a leading BOS when the tokenizer adds it).
    pub fn render(&self, messages: &[Message], add_generation_prompt: bool) -> anyhow::Result<String> {
        let messages: Vec<Value> = messages.iter().map(|m| context! { role => m.role, content => m.content }).collect();
        let ctx = context! {
            messages,
            add_generation_prompt,
            bos_token => self.tokens.bos.as_deref().unwrap_or(""),
            eos_token => self.tokens.eos.as_deref().unwrap_or(""),
        };
        let template = self.env.get_template(&self.origin)?;
        let text =
            template.render(ctx).map_err(|e| anyhow!("rendering the chat template of {}: {e:#}", self.origin))?;
        Ok(match (&self.tokens.bos, self.tokens.tokenizer_adds_bos) {
            (Some(bos), true) if !bos.is_empty() => text.strip_prefix(bos.as_str()).map(str::to_string).unwrap_or(text),
            _ => text,
        })
    }

    /// One user turn holding `prompt`, with the generation prompt.
    pub fn user_turn(&self, prompt: &str) -> anyhow::Result<String> {
        self.render(&[Message::user(prompt)], true)
    }

    /// The prompt part ([`Self::user_turn`]) and the answer part: what the template writes for
    /// the assistant's message after the generation prompt, through the end-of-turn marker.
    pub fn with_answer(&self, prompt: &str, answer: &str) -> anyhow::Result<(String, String)> {
        let (prompt, answer) = self.split_answer(prompt, answer)?;
        let answer = answer.strip_suffix(self.after_end_of_turn.as_str()).unwrap_or(&answer).to_string();
        Ok((prompt, answer))
    }

    /// The user turn, and the rest of the conversation with the answer (trailing whitespace kept).
    fn split_answer(&self, prompt: &str, answer: &str) -> anyhow::Result<(String, String)> {
        let user_turn = self.user_turn(prompt)?;
        let conversation = self.render(&[Message::user(prompt), Message::assistant(answer)], false)?;
        let rest = conversation.strip_prefix(user_turn.as_str());
        ensure!(
            rest.is_some(),
            "{}: the conversation {conversation:?} does not start with the user turn and generation prompt \
             {user_turn:?}, so there is no telling where the answer starts",
            self.origin
        );
        let rest = rest.unwrap_or_default().to_string();
        Ok((user_turn, rest))
    }

    /// What ends the assistant's turn: the text the template writes after an answer, up to
    /// trailing whitespace (`<|im_end|>`, `<end_of_turn>`; a newline for a template that writes
    /// nothing else).
    pub fn end_of_turn(&self) -> &str {
        &self.end_of_turn
    }

    /// Where the template came from.
    pub fn origin(&self) -> &str {
        &self.origin
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CHATML: &str = "{% for m in messages %}\
                          {{ '<|im_start|>' + m['role'] + '\n' + m['content'] + '<|im_end|>\n' }}{% endfor %}\
                          {% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}";

    fn tokens(bos: &str, adds: bool) -> SpecialTokens {
        SpecialTokens { bos: Some(bos.into()), eos: Some("</s>".into()), tokenizer_adds_bos: adds }
    }

    #[test]
    fn chatml_turns_and_the_end_of_turn_marker() {
        let t = JinjaTemplate::new(CHATML, "t", SpecialTokens::default()).unwrap();
        assert_eq!(t.user_turn("Hi").unwrap(), "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n");
        let (prompt, answer) = t.with_answer("Hi", " yes \n").unwrap();
        assert_eq!(prompt, t.user_turn("Hi").unwrap());
        assert_eq!(answer, " yes \n<|im_end|>", "the newline after the marker is left out; the answer kept whole");
        assert_eq!(t.end_of_turn(), "<|im_end|>");
    }

    #[test]
    fn leading_bos_is_left_to_the_tokenizer_when_it_adds_one() {
        let source = "{{ bos_token }}{% for m in messages %}[{{ m.content | trim }}]\
                      {% if m.role == 'assistant' %}{{ eos_token }}{% endif %}{% endfor %}";
        let with = JinjaTemplate::new(source, "t", tokens("<s>", false)).unwrap();
        assert_eq!(with.with_answer(" a ", "b").unwrap(), ("<s>[a]".into(), "[b]</s>".into()));
        let without = JinjaTemplate::new(source, "t", tokens("<s>", true)).unwrap();
        assert_eq!(without.user_turn("a").unwrap(), "[a]");
        assert_eq!(without.end_of_turn(), "]</s>");
    }

    #[test]
    fn python_string_methods_and_blocks_trimmed_as_transformers_does() {
        let source = "{% for m in messages %}\n    {% if m.content.startswith('!') %}\n\
                      {{ m.content.strip('!').upper() }}\n    {% else %}\n{{ m.content.strip() }}\n    {% endif %}\n{% endfor %}";
        let t = JinjaTemplate::new(source, "t", SpecialTokens::default()).unwrap();
        // trim_blocks drops the newline after a block tag, lstrip_blocks the indent before one.
        assert_eq!(t.user_turn("!hi!").unwrap(), "HI\n");
        assert_eq!(t.with_answer(" q ", " a ").unwrap(), ("q\n".into(), "a\n".into()));
        assert_eq!(t.end_of_turn(), "\n", "only a newline after the answer: that newline ends the turn");
    }

    #[test]
    fn errors_name_the_template_and_what_went_wrong() {
        let err = |source: &str| {
            JinjaTemplate::new(source, "m.gguf: tokenizer.chat_template", SpecialTokens::default()).unwrap_err()
        };
        let broken = format!("{:#}", err("{% for m in messages %}"));
        assert!(broken.starts_with("m.gguf: tokenizer.chat_template: not a valid Jinja template"), "{broken}");
        let raised = format!("{:#}", err("{{ raise_exception('Only user and assistant roles are supported!') }}"));
        assert!(
            raised.contains("m.gguf: tokenizer.chat_template") && raised.contains("Only user and assistant roles"),
            "{raised}"
        );
        let odd =
            format!("{:#}", err("{% if add_generation_prompt %}GO{% else %}{{ messages[-1].content }}{% endif %}"));
        assert!(odd.contains("does not start with the user turn and generation prompt"), "{odd}");
    }
}
