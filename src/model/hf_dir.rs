//! A Hugging Face model directory: `config.json` and the weights in `model.safetensors`, or in
//! shards listed by `model.safetensors.index.json` (`tokenizer.json` is the tokenizer's business).
//!
//! `config.json` is read for the `model_type`s whose models we run, under HF's field names:
//! `llama`, `mistral`, `qwen2` (→ [`Architecture::Llama`]) and `gemma3_text`, `gemma3` (→
//! [`Architecture::Gemma3`]; `gemma3` is the multimodal wrapper, whose text model is in
//! `text_config` and whose weights are prefixed with `language_model.`: the vision tower is dropped).
//! Variants our models would silently get wrong (rope scaling, other activations, logit
//! soft-capping, Qwen2's sliding window) are rejected with the field that asks for them.
//!
//! Mistral's `sliding_window` (`null`, or e.g. 4096 in Mistral 7B v0.1) is read but not applied:
//! [`super::llama::Llama`] attends to every earlier position, which equals windowed attention only
//! for sequences no longer than the window — true of every sequence this project feeds a model
//! (a few hundred tokens), not of long generations.

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail, ensure};
use candle_core::{DType, Device};
use serde_json::{Map, Value};

use super::config::{Architecture, ModelConfig};
use super::weights::Weights;

/// `model_type`s of `config.json` we can run.
pub const SUPPORTED_MODEL_TYPES: [&str; 5] = ["llama", "mistral", "qwen2", "gemma3_text", "gemma3"];

/// The configuration in `dir/config.json`.
pub fn read_config(dir: &Path) -> anyhow::Result<ModelConfig> {
    read_config_file(&dir.join("config.json"))
}

/// The configuration in an HF `config.json` file wherever it lies.
pub fn read_config_file(path: &Path) -> anyhow::Result<ModelConfig> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let json: Value = serde_json::from_str(&text).with_context(|| format!("{} is not valid JSON", path.display()))?;
    let root = Fields::root(path, &json)?;
    let model_type = root.string("model_type")?;
    let config = match model_type {
        "llama" | "mistral" | "qwen2" => llama_family(&root, model_type),
        "gemma3_text" => gemma3(&root),
        "gemma3" => {
            let text = root.object("text_config")?;
            if let Some(inner) = text.opt_string("model_type")? {
                ensure!(inner == "gemma3_text", "{}: field `text_config.model_type` is `{inner}`, expected `gemma3_text`", path.display());
            }
            gemma3(&text)
        }
        other => bail!("{}: model_type `{other}` is not supported (supported: {})", path.display(), SUPPORTED_MODEL_TYPES.join(", ")),
    }?;
    let (heads, kv_heads) = (config.num_heads, config.num_kv_heads);
    ensure!(
        heads > 0 && kv_heads > 0 && heads % kv_heads == 0,
        "{}: {heads} attention heads cannot share {kv_heads} key/value heads",
        path.display()
    );
    Ok(config)
}

/// The configuration and every weight of the text model (HF names, converted to `dtype` on
/// `device`). Weights are checked against [`super::weight_shapes`].
pub fn load(dir: &Path, dtype: DType, device: &Device) -> anyhow::Result<(ModelConfig, Weights)> {
    let config = read_config(dir)?;
    let (files, indexed) = safetensors_files(dir)?;
    let mut tensors = HashMap::new();
    for file in &files {
        let loaded = candle_core::safetensors::load(file, device).with_context(|| format!("reading {}", file.display()))?;
        for (name, tensor) in loaded {
            let Some(hf) = text_model_name(&name) else { continue };
            let tensor = tensor.to_dtype(dtype)?;
            ensure!(tensors.insert(hf.clone(), tensor).is_none(), "{}: tensor `{hf}` is stored twice", dir.display());
        }
    }
    // A shard that lacks what the index promises is a broken download.
    for name in indexed.iter().filter_map(|n| text_model_name(n)) {
        ensure!(tensors.contains_key(&name), "{}: tensor `{name}` is listed in {INDEX} but in none of the shards", dir.display());
    }
    let weights = Weights { tensors, source: dir.display().to_string() };
    weights.check_shapes(&super::weight_shapes(&config))?;
    Ok((config, weights))
}

const SINGLE: &str = "model.safetensors";
const INDEX: &str = "model.safetensors.index.json";

/// The safetensors files of a directory (one, or the shards of the index, sorted) and the
/// tensor names the index lists (empty without an index).
pub fn safetensors_files(dir: &Path) -> anyhow::Result<(Vec<PathBuf>, BTreeSet<String>)> {
    let index = dir.join(INDEX);
    if index.is_file() {
        let text = std::fs::read_to_string(&index).with_context(|| format!("reading {}", index.display()))?;
        let json: Value = serde_json::from_str(&text).with_context(|| format!("{} is not valid JSON", index.display()))?;
        let map = Fields::root(&index, &json)?.object("weight_map")?;
        let mut files = BTreeSet::new();
        let mut names = BTreeSet::new();
        for (name, file) in map.map {
            let file = file.as_str().with_context(|| format!("{}: `weight_map.{name}` is {file}, expected a file name", index.display()))?;
            files.insert(dir.join(file));
            names.insert(name.clone());
        }
        for file in &files {
            ensure!(file.is_file(), "{} lists {}, which is missing", index.display(), file.display());
        }
        return Ok((files.into_iter().collect(), names));
    }
    let single = dir.join(SINGLE);
    if single.is_file() {
        return Ok((vec![single], BTreeSet::new()));
    }
    let pytorch = dir.join("pytorch_model.bin").is_file();
    bail!(
        "{}: no {SINGLE} or {INDEX}{}",
        dir.display(),
        if pytorch { " (only safetensors are read, not pytorch_model.bin)" } else { "" }
    )
}

/// The name a checkpoint's tensor has in a text-only model, `None` for a tensor of another
/// modality. `Gemma3ForConditionalGeneration` nests the text model: `language_model.model.X`
/// (`model.language_model.X` in newer transformers) is `model.X`; a bare `LlamaModel` lacks the
/// `model.` prefix.
fn text_model_name(name: &str) -> Option<String> {
    const OTHER_MODALITIES: [&str; 4] = ["vision_tower.", "multi_modal_projector.", "model.vision_tower.", "model.multi_modal_projector."];
    if OTHER_MODALITIES.iter().any(|p| name.starts_with(p)) {
        return None;
    }
    if let Some(rest) = name.strip_prefix("language_model.") {
        return Some(rest.to_string());
    }
    if let Some(rest) = name.strip_prefix("model.language_model.") {
        return Some(format!("model.{rest}"));
    }
    if name.starts_with("layers.") || name.starts_with("embed_tokens.") || name.starts_with("norm.") {
        return Some(format!("model.{name}"));
    }
    Some(name.to_string())
}

/// Llama, Mistral and Qwen2: HF always writes their shape fields, so those are required;
/// optional ones take the defaults of HF's config classes.
fn llama_family(f: &Fields, model_type: &str) -> anyhow::Result<ModelConfig> {
    let activation = f.opt_string("hidden_act")?.unwrap_or("silu");
    ensure!(activation == "silu", "{} is `{activation}`, only `silu` is supported", f.name("hidden_act"));
    f.reject_rope_scaling()?;
    if model_type == "qwen2" && f.opt_bool("use_sliding_window")?.unwrap_or(false) {
        bail!("{}: sliding-window attention is not supported", f.name("use_sliding_window"));
    }
    let hidden_size = f.usize("hidden_size")?;
    let num_heads = f.usize("num_attention_heads")?;
    let num_kv_heads = f.opt_usize("num_key_value_heads")?.unwrap_or(num_heads);
    let head_dim = f.opt_usize("head_dim")?.unwrap_or(hidden_size / num_heads.max(1));
    let rope_theta = f.opt_f64("rope_theta")?.unwrap_or(10_000.0);
    let default_positions = match model_type {
        "llama" => 2048,
        "mistral" => 4096 * 32,
        _ => 32_768,
    };
    Ok(ModelConfig {
        architecture: Architecture::Llama,
        vocab_size: f.usize("vocab_size")?,
        hidden_size,
        intermediate_size: f.usize("intermediate_size")?,
        num_layers: f.usize("num_hidden_layers")?,
        num_heads,
        num_kv_heads,
        head_dim,
        rms_norm_eps: f.opt_f64("rms_norm_eps")?.unwrap_or(1e-6),
        rope_theta,
        max_position_embeddings: f.opt_usize("max_position_embeddings")?.unwrap_or(default_positions),
        tie_word_embeddings: f.opt_bool("tie_word_embeddings")?.unwrap_or(false),
        rope_local_theta: rope_theta,
        sliding_window: None,
        sliding_window_pattern: 1,
        query_pre_attn_scalar: head_dim as f64,
    })
}

/// Gemma 3's text model. Every field has the default of HF's `Gemma3TextConfig`, because the
/// `text_config` of a multimodal `gemma3` config only lists the values that differ from them.
fn gemma3(f: &Fields) -> anyhow::Result<ModelConfig> {
    let activation = f.opt_string("hidden_activation")?.unwrap_or("gelu_pytorch_tanh");
    ensure!(activation == "gelu_pytorch_tanh", "{} is `{activation}`, only `gelu_pytorch_tanh` is supported", f.name("hidden_activation"));
    f.reject_rope_scaling()?;
    for capping in ["attn_logit_softcapping", "final_logit_softcapping"] {
        ensure!(f.get(capping).is_none(), "{}: logit soft-capping is not supported", f.name(capping));
    }
    ensure!(!f.opt_bool("use_bidirectional_attention")?.unwrap_or(false), "{}: bidirectional attention is not supported", f.name("use_bidirectional_attention"));

    let num_layers = f.opt_usize("num_hidden_layers")?.unwrap_or(26);
    let mut sliding_window = match f.get("sliding_window") {
        None if f.map.contains_key("sliding_window") => None, // explicitly null
        _ => Some(f.opt_usize("sliding_window")?.unwrap_or(4096)),
    };
    // Newer configs list each layer's kind; older ones give the period of the global layers.
    let pattern = match f.get("layer_types") {
        Some(types) => match layer_pattern(f, types, num_layers)? {
            Some(p) => p,
            None => {
                sliding_window = None;
                1
            }
        },
        None => match f.opt_usize("sliding_window_pattern")? {
            Some(p) => p,
            None => f.opt_usize("_sliding_window_pattern")?.unwrap_or(6),
        },
    };
    ensure!(pattern > 0, "{}: a sliding-window pattern of 0", f.name("sliding_window_pattern"));
    Ok(ModelConfig {
        architecture: Architecture::Gemma3,
        vocab_size: f.opt_usize("vocab_size")?.unwrap_or(262_208),
        hidden_size: f.opt_usize("hidden_size")?.unwrap_or(2304),
        intermediate_size: f.opt_usize("intermediate_size")?.unwrap_or(9216),
        num_layers,
        num_heads: f.opt_usize("num_attention_heads")?.unwrap_or(8),
        num_kv_heads: f.opt_usize("num_key_value_heads")?.unwrap_or(4),
        head_dim: f.opt_usize("head_dim")?.unwrap_or(256),
        rms_norm_eps: f.opt_f64("rms_norm_eps")?.unwrap_or(1e-6),
        rope_theta: f.opt_f64("rope_theta")?.unwrap_or(1_000_000.0),
        max_position_embeddings: f.opt_usize("max_position_embeddings")?.unwrap_or(131_072),
        tie_word_embeddings: f.opt_bool("tie_word_embeddings")?.unwrap_or(true),
        rope_local_theta: f.opt_f64("rope_local_base_freq")?.unwrap_or(10_000.0),
        sliding_window,
        sliding_window_pattern: pattern,
        query_pre_attn_scalar: f.opt_f64("query_pre_attn_scalar")?.unwrap_or(256.0),
    })
}

/// The period `p` of `layer_types` (layer `i` is global iff `(i+1) % p == 0`), `None` when every
/// layer is global; an error for a layout that no period describes.
fn layer_pattern(f: &Fields, types: &Value, num_layers: usize) -> anyhow::Result<Option<usize>> {
    let name = f.name("layer_types");
    let types = types.as_array().with_context(|| format!("{name} is not a list"))?;
    ensure!(types.len() == num_layers, "{name} lists {} layers, the model has {num_layers}", types.len());
    let global: Vec<bool> = types
        .iter()
        .map(|t| match t.as_str() {
            Some("full_attention") => Ok(true),
            Some("sliding_attention") => Ok(false),
            _ => bail!("{name} holds {t}, expected \"full_attention\" or \"sliding_attention\""),
        })
        .collect::<anyhow::Result<_>>()?;
    if global.iter().all(|&g| g) {
        return Ok(None);
    }
    // No global layer at all: a period longer than the model.
    let period = global.iter().position(|&g| g).map_or(num_layers + 1, |i| i + 1);
    let periodic = global.iter().enumerate().all(|(i, &g)| g == ((i + 1) % period == 0));
    ensure!(periodic, "{name}: global layers are not every {period}th layer, which is the only layout supported");
    Ok(Some(period))
}

/// Typed access to a JSON object whose errors name the file and the (dotted) field.
struct Fields<'a> {
    file: &'a Path,
    /// `text_config.` for fields inside `text_config`.
    prefix: String,
    map: &'a Map<String, Value>,
}

impl<'a> Fields<'a> {
    fn root(file: &'a Path, json: &'a Value) -> anyhow::Result<Self> {
        let map = json.as_object().with_context(|| format!("{}: expected a JSON object", file.display()))?;
        Ok(Fields { file, prefix: String::new(), map })
    }

    /// `file: field `prefix.name``, for messages.
    fn name(&self, field: &str) -> String {
        format!("{}: field `{}{field}`", self.file.display(), self.prefix)
    }

    /// The value, `None` when absent or `null` (HF writes `null` for "use the default").
    fn get(&self, field: &str) -> Option<&'a Value> {
        self.map.get(field).filter(|v| !v.is_null())
    }

    fn mistyped(&self, field: &str, value: &Value, expected: &str) -> anyhow::Error {
        let mut shown = value.to_string();
        if shown.len() > 60 {
            shown = format!("{}…", shown.chars().take(60).collect::<String>());
        }
        anyhow::anyhow!("{} is {shown}, expected {expected}", self.name(field))
    }

    fn required<T>(&self, field: &str, expected: &str, value: anyhow::Result<Option<T>>) -> anyhow::Result<T> {
        value?.with_context(|| format!("{} is missing (expected {expected})", self.name(field)))
    }

    fn opt_usize(&self, field: &str) -> anyhow::Result<Option<usize>> {
        let Some(value) = self.get(field) else { return Ok(None) };
        let n = value.as_u64().and_then(|n| usize::try_from(n).ok());
        n.map(Some).ok_or_else(|| self.mistyped(field, value, "an unsigned integer"))
    }

    fn usize(&self, field: &str) -> anyhow::Result<usize> {
        self.required(field, "an unsigned integer", self.opt_usize(field))
    }

    fn opt_f64(&self, field: &str) -> anyhow::Result<Option<f64>> {
        let Some(value) = self.get(field) else { return Ok(None) };
        value.as_f64().map(Some).ok_or_else(|| self.mistyped(field, value, "a number"))
    }

    fn opt_bool(&self, field: &str) -> anyhow::Result<Option<bool>> {
        let Some(value) = self.get(field) else { return Ok(None) };
        value.as_bool().map(Some).ok_or_else(|| self.mistyped(field, value, "true or false"))
    }

    fn opt_string(&self, field: &str) -> anyhow::Result<Option<&'a str>> {
        let Some(value) = self.get(field) else { return Ok(None) };
        value.as_str().map(Some).ok_or_else(|| self.mistyped(field, value, "a string"))
    }

    fn string(&self, field: &str) -> anyhow::Result<&'a str> {
        self.required(field, "a string", self.opt_string(field))
    }

    fn object(&self, field: &str) -> anyhow::Result<Fields<'a>> {
        let value = self.get(field).with_context(|| format!("{} is missing (expected an object)", self.name(field)))?;
        let map = value.as_object().ok_or_else(|| self.mistyped(field, value, "an object"))?;
        Ok(Fields { file: self.file, prefix: format!("{}{field}.", self.prefix), map })
    }

    /// `rope_scaling` must be absent, `null` or of type `default`: our rope tables are unscaled.
    fn reject_rope_scaling(&self) -> anyhow::Result<()> {
        let Some(scaling) = self.get("rope_scaling") else { return Ok(()) };
        let kind = scaling.get("rope_type").or_else(|| scaling.get("type")).and_then(Value::as_str);
        ensure!(kind == Some("default"), "{} is {scaling}: rope scaling is not supported", self.name("rope_scaling"));
        Ok(())
    }
}
