//! From text to token ids for one model: a prompt as the model reads it (one user turn of its
//! chat template, or the raw text with `--no-chat`), a supervised example for fine-tuning (the
//! answer with its end-of-turn marker) or for CoS-Low (the answer alone, as the authors' script
//! does), when generation stops, and the generated text back.

use anyhow::{Context as _, bail};

use crate::model::load::ModelFiles;
use crate::model::train::TokenExample;

/// How prompts and answers become ids for `files`' model.
pub struct Renderer<'a> {
    pub files: &'a ModelFiles,
    /// Wrap prompts in the model's chat template (else feed the raw text).
    pub chat: bool,
    /// The end-of-turn marker's id, when the marker is one token (it stops generation).
    end_of_turn: Option<u32>,
}

impl<'a> Renderer<'a> {
    pub fn new(files: &'a ModelFiles, chat: bool) -> anyhow::Result<Self> {
        let marker = files.chat.end_of_turn();
        let ids = if marker.is_empty() { Vec::new() } else { files.tokenizer.encode(marker)? };
        let end_of_turn = (chat && ids.len() == 1).then(|| ids[0]);
        Ok(Renderer { files, chat, end_of_turn })
    }

    /// The ids of `prompt` as the model reads it, ready to generate the answer from.
    pub fn prompt_ids(&self, prompt: &str) -> anyhow::Result<Vec<u32>> {
        let text = if self.chat { self.files.chat.user_turn(prompt)? } else { prompt.to_string() };
        self.files.tokenizer.encode_prompt(&text)
    }

    /// A fine-tuning example: the prompt, then the answer and what ends the model's turn (the
    /// end-of-turn marker, or EOS without a chat template), which alone carry the loss.
    pub fn training_example(&self, prompt: &str, answer: &str) -> anyhow::Result<TokenExample> {
        self.example(prompt, answer, true)
    }

    /// A CoS-Low example: the answer tokens without the end-of-turn marker (PAPER.md §4: the
    /// authors' script feeds the templated prompt and the answer, no EOS).
    pub fn gradient_example(&self, prompt: &str, answer: &str) -> anyhow::Result<TokenExample> {
        self.example(prompt, answer, false)
    }

    fn example(&self, prompt: &str, answer: &str, with_end: bool) -> anyhow::Result<TokenExample> {
        if answer.trim().is_empty() {
            bail!("the answer is empty");
        }
        let tokenizer = &self.files.tokenizer;
        let (prompt_ids, answer_ids) = if self.chat {
            let (prompt_part, answer_part) = self.files.chat.with_answer(prompt, answer)?;
            let marker = self.files.chat.end_of_turn();
            let answer_text = if with_end {
                answer_part
            } else {
                let trimmed = answer_part.trim_end_matches('\n');
                trimmed.strip_suffix(marker).unwrap_or(trimmed).to_string()
            };
            (tokenizer.encode_prompt(&prompt_part)?, tokenizer.encode(&answer_text)?)
        } else {
            let mut ids = tokenizer.encode(answer)?;
            if with_end && let Some(&eos) = tokenizer.eos().first() {
                ids.push(eos);
            }
            (tokenizer.encode_prompt(prompt)?, ids)
        };
        if answer_ids.is_empty() {
            bail!("the answer {answer:?} has no tokens in the model's vocabulary");
        }
        if let Some(unk) = tokenizer.token_id("<unk>")
            && answer_ids.iter().all(|&id| id == unk)
        {
            bail!("none of the answer's tokens is in the model's vocabulary ({answer:?} encodes to <unk> only)");
        }
        let context = self.files.config.max_position_embeddings;
        if prompt_ids.len() + answer_ids.len() > context {
            bail!(
                "the prompt and answer are {} tokens, more than the model's context of {context}",
                prompt_ids.len() + answer_ids.len()
            );
        }
        Ok(TokenExample { prompt: prompt_ids, answer: answer_ids })
    }

    /// Whether generation stops at `id` (EOS or the end-of-turn marker).
    pub fn is_stop(&self, id: u32) -> bool {
        self.files.tokenizer.is_eos(id) || Some(id) == self.end_of_turn
    }

    /// The text of generated ids (a final stop token and special tokens left out).
    pub fn decode(&self, ids: &[u32]) -> anyhow::Result<String> {
        let ids = match ids.last() {
            Some(&last) if self.is_stop(last) => &ids[..ids.len() - 1],
            _ => ids,
        };
        self.files.tokenizer.decode_skip_special(ids).context("decoding the generated answer")
    }
}

/// The paper's parsing of a generated answer before it is scored (PAPER.md §1, the authors'
/// order): the part after the last `####` when there is one; the first line, case and a final
/// '.' are the metric's normalisation (`tasks::normalise`).
pub fn parse_answer(generated: &str) -> &str {
    generated.rsplit_once("####").map_or(generated, |(_, after)| after)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_part_after_the_last_marker_is_the_answer() {
        assert_eq!(parse_answer("so 3 + 4 #### 7"), " 7");
        assert_eq!(parse_answer("a #### b #### c"), " c");
        assert_eq!(parse_answer("plausible"), "plausible");
    }
}
