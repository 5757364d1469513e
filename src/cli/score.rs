//! `dataeff score`: log-probability of a continuation given a prompt, optionally as a chat turn
//! and its answer.

use std::io::Write as _;

use anyhow::Context as _;
use dataeff::model::generate::continuation_log_probs;

use super::model_args::ModelArgs;

#[derive(clap::Args, Debug)]
#[command(
    after_help = "The prompt is encoded with BOS first when the tokenizer adds one; the continuation is encoded \
on its own (no BOS) and appended.\n\nWith --chat, the prompt is written as one user turn with the start of the model's \
turn, and the continuation as the model's answer followed by its end-of-turn marker (<|im_end|>, <end_of_turn>), which \
is scored too, as training scores it.\n\nExample: dataeff score --model gemma-3-270m --prompt \"The capital of France is\" --continuation \" Paris\""
)]
pub struct Args {
    #[command(flatten)]
    model: ModelArgs,
    #[arg(long)]
    prompt: String,
    #[arg(long)]
    continuation: String,
    /// Score the continuation as the model's answer to the prompt in its chat template (see --chat-format).
    #[arg(long)]
    chat: bool,
    /// Also print each continuation token with its log-probability.
    #[arg(long)]
    tokens: bool,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let (files, model) = args.model.load()?;
    // Written through a handle so that a closed pipe (`| head`) is an error `main` ends quietly on.
    let mut out = std::io::stdout().lock();
    let (prompt, continuation) = if args.chat {
        files.chat.with_answer(&args.prompt, &args.continuation)?
    } else {
        (args.prompt.clone(), args.continuation.clone())
    };
    let prompt = files.tokenizer.encode_prompt(&prompt)?;
    let continuation = files.tokenizer.encode(&continuation)?;
    anyhow::ensure!(!continuation.is_empty(), "the continuation encodes to no tokens");
    let log_probs = continuation_log_probs(model.as_ref(), &prompt, &continuation)
        .with_context(|| format!("scoring with {}", files.path.display()))?;
    writeln!(out, "logprob\t{:.6}\ttokens\t{}", log_probs.iter().sum::<f64>(), continuation.len())?;
    if args.tokens {
        for (id, lp) in continuation.iter().zip(&log_probs) {
            writeln!(out, "{:>8}  {lp:>10.4}  {:?}", id, files.tokenizer.token(*id).unwrap_or_default())?;
        }
    }
    Ok(())
}
