//! What a cell's numbers depend on, as one JSON value whose sha256 is the cell's address: the
//! model file (sha256), dtype and chat template, the task's examples, split seed and prompt
//! template, the profile parameters the cell uses, the seeds, and this program's version. A cell
//! file whose key differs from the key a run would use is recomputed, never reused.

use std::path::Path;

use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};

use crate::model::load::ModelFiles;
use crate::provenance::{sha256_file, to_hex};
use crate::tasks::Task;

/// The sha256 of `text`, in hex.
pub fn sha256_text(text: &str) -> String {
    to_hex(&Sha256::digest(text.as_bytes()))
}

/// The address of a key: the sha256 of its JSON text (key order is insertion order).
pub fn address(key: &Value) -> String {
    sha256_text(&key.to_string())
}

/// The sha256 of a model's weights: the file's, or for a directory the sha256 of its files'
/// names and sha256s. A known model's is its pin, which loading it has verified already
/// (`provenance::verify`), so it is not hashed again for every sweep process.
pub fn model_sha256(path: &Path) -> anyhow::Result<String> {
    if let Some((known, _)) = crate::provenance::verify::known_model_at(path) {
        return Ok(known.sha256.to_string());
    }
    if !path.is_dir() {
        return sha256_file(path);
    }
    let mut entries: Vec<_> = std::fs::read_dir(path)?.filter_map(|e| e.ok().map(|e| e.path())).filter(|p| p.is_file()).collect();
    entries.sort();
    let mut listing = String::new();
    for file in entries {
        let name = file.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        listing += &format!("{name} {}\n", sha256_file(&file)?);
    }
    Ok(sha256_text(&listing))
}

/// The model part of every key. The chat template is identified by what it renders for a fixed
/// probe turn, which changes exactly when the prompts the model reads change.
pub fn model_key(files: &ModelFiles, sha256: &str, dtype: &str, chat: bool) -> anyhow::Result<Value> {
    let chat_fingerprint = if chat {
        let (prompt, answer) = files.chat.with_answer("PROBE PROMPT", "PROBE ANSWER")?;
        Some(sha256_text(&format!("{prompt}\u{0}{answer}")))
    } else {
        None
    };
    let file = files.path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    Ok(json!({
        "file": file,
        "sha256": sha256,
        "dtype": dtype,
        "chat_format": if chat { files.chat.name() } else { "none" },
        "chat_template_sha256": chat_fingerprint,
    }))
}

/// The task part of every key: its name, the sha256 of its examples, the split seed and the
/// prompt template's text.
pub fn task_key(task: &Task, split_seed: u64) -> Value {
    let mut examples = String::new();
    for e in &task.examples {
        examples += &e.dedup_key();
        examples.push('\u{1d}');
        examples += &e.targets.join("\u{1f}");
        examples.push('\n');
    }
    json!({
        "name": task.name,
        "examples_sha256": sha256_text(&examples),
        "split_seed": split_seed,
        "template": task.template.path,
        "template_sha256": sha256_text(&task.template.text),
    })
}
