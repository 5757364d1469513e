//! `dataeff model-info`: what a model is, from its files.

use std::collections::BTreeMap;
use std::io::Write as _;

use serde_json::json;

use dataeff::model::gguf::GgufFile;
use dataeff::model::load::parameter_count;
use dataeff::provenance::sha256_file;

use super::model_args::ModelArgs;

#[derive(clap::Args, Debug)]
#[command(after_help = "Example: dataeff model-info --model gemma-3-270m")]
pub struct Args {
    #[command(flatten)]
    model: ModelArgs,
    /// Print JSON instead of aligned text.
    #[arg(long)]
    json: bool,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let files = args.model.open()?;
    let file = if files.path.is_dir() { files.path.join("config.json") } else { files.path.clone() };
    // How the weights are stored in the file (GGUF quantisation types, with tensor counts).
    let mut stored: BTreeMap<String, usize> = BTreeMap::new();
    if files.path.is_file() {
        for info in GgufFile::open(&files.path)?.content().tensor_infos.values() {
            *stored.entry(format!("{:?}", info.ggml_dtype)).or_default() += 1;
        }
    }
    let info = json!({
        "model": files.spec,
        "architecture": files.config.architecture,
        "parameters": parameter_count(&files.weights),
        "runtime_dtype": format!("{:?}", args.model.dtype.dtype()).to_lowercase(),
        "stored_as": stored,
        "file": files.path.display().to_string(),
        "sha256": if files.path.is_file() { sha256_file(&files.path)? } else { "(directory)".to_string() },
        "vocab_size": files.tokenizer.vocab_size(),
        "bos": files.tokenizer.bos(),
        "eos": files.tokenizer.eos(),
        "add_bos": files.tokenizer.add_bos(),
        "chat_format": files.chat.name(),
        "config": files.config,
        "config_source": file.display().to_string(),
    });
    let stored_text = stored.iter().map(|(kind, n)| format!("{kind} ×{n}")).collect::<Vec<_>>().join(", ");
    let mut out = std::io::stdout().lock();
    if args.json {
        writeln!(out, "{}", serde_json::to_string_pretty(&info)?)?;
        return Ok(());
    }
    let object = info.as_object().expect("built as an object");
    for (key, value) in object {
        match key.as_str() {
            "config" => continue,
            "config_source" if files.path.is_file() => continue,
            "stored_as" if files.path.is_file() => writeln!(out, "{key:<14} {stored_text} (tensors by GGUF type)")?,
            "stored_as" => writeln!(out, "{key:<14} safetensors")?,
            _ => writeln!(out, "{key:<14} {}", value.to_string().trim_matches('"'))?,
        }
    }
    let c = &files.config;
    writeln!(
        out,
        "{:<14} {} layers, width {}, MLP {}, {} heads / {} KV heads of {}, vocab {}, rope θ {}{}",
        "shape",
        c.num_layers,
        c.hidden_size,
        c.intermediate_size,
        c.num_heads,
        c.num_kv_heads,
        c.head_dim,
        c.vocab_size,
        c.rope_theta,
        c.sliding_window.map_or(String::new(), |w| format!(", local θ {} window {w} (every {}th layer global)", c.rope_local_theta, c.sliding_window_pattern)),
    )?;
    Ok(())
}
