//! `dataeff score`: log-probability of a continuation given a prompt.

use dataeff::model::generate::continuation_log_probs;

use super::model_args::ModelArgs;

#[derive(clap::Args, Debug)]
#[command(after_help = "The prompt is encoded with BOS first when the tokenizer adds one; the continuation is encoded \
on its own (no BOS) and appended.\n\nExample: dataeff score --model gemma-3-270m --prompt \"The capital of France is\" --continuation \" Paris\"")]
pub struct Args {
    #[command(flatten)]
    model: ModelArgs,
    #[arg(long)]
    prompt: String,
    #[arg(long)]
    continuation: String,
    /// Also print each continuation token with its log-probability.
    #[arg(long)]
    tokens: bool,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let files = args.model.open()?;
    let model = files.build()?;
    let prompt = files.tokenizer.encode_prompt(&args.prompt)?;
    let continuation = files.tokenizer.encode(&args.continuation)?;
    anyhow::ensure!(!continuation.is_empty(), "the continuation encodes to no tokens");
    let log_probs = continuation_log_probs(model.as_ref(), &prompt, &continuation)?;
    println!("logprob\t{:.6}\ttokens\t{}", log_probs.iter().sum::<f64>(), continuation.len());
    if args.tokens {
        for (id, lp) in continuation.iter().zip(&log_probs) {
            println!("{:>8}  {lp:>10.4}  {:?}", id, files.tokenizer.token(*id).unwrap_or_default());
        }
    }
    Ok(())
}
