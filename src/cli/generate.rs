//! `dataeff generate`: greedy continuation of a prompt, optionally as one chat turn.

use std::io::Write as _;

use std::time::Instant;

use anyhow::Context as _;
use dataeff::model::generate::greedy;

use super::model_args::ModelArgs;

#[derive(clap::Args, Debug)]
#[command(after_help = "Example: dataeff generate --chat --prompt \"What is the capital of France? Answer with one word.\"")]
pub struct Args {
    #[command(flatten)]
    model: ModelArgs,
    /// The text to continue.
    #[arg(long)]
    prompt: String,
    /// Wrap the prompt as one user turn in the model's chat template (see --chat-format).
    #[arg(long)]
    chat: bool,
    #[arg(long, default_value_t = 64)]
    max_new_tokens: usize,
    /// Also print each generated token with its probability.
    #[arg(long)]
    probs: bool,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let (files, model) = args.model.load()?;
    // Written through a handle so that a closed pipe (`| head`) is an error `main` ends quietly on.
    let mut out = std::io::stdout().lock();
    let text = if args.chat { files.chat.user_turn(&args.prompt)? } else { args.prompt.clone() };
    let prompt = files.tokenizer.encode_prompt(&text)?;
    let start = Instant::now();
    let generation = greedy(model.as_ref(), &prompt, args.max_new_tokens, &|id| files.tokenizer.is_eos(id))
        .with_context(|| format!("generating with {}", files.path.display()))?;
    let seconds = start.elapsed().as_secs_f64();
    let shown = &generation.ids[..generation.ids.len() - usize::from(generation.stopped)];
    writeln!(out, "{}", files.tokenizer.decode(shown)?)?;
    if args.probs {
        for (id, p) in generation.ids.iter().zip(&generation.token_probs) {
            writeln!(out, "{:>8}  {:.4}  {:?}", id, p, files.tokenizer.token(*id).unwrap_or_default())?;
        }
    }
    eprintln!(
        "{} prompt tokens, {} generated in {seconds:.2} s ({}); mean confidence {}",
        prompt.len(),
        generation.ids.len(),
        if generation.stopped { "stopped at end of turn" } else { "hit --max-new-tokens" },
        generation.mean_confidence().map_or("n/a".into(), |c| format!("{c:.3}")),
    );
    Ok(())
}
