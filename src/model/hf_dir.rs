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

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail, ensure};
use candle_core::{DType, Device};
use serde::{Deserialize, Deserializer};

use super::config::{Architecture, ModelConfig};
use super::weights::Weights;
use crate::json;

/// `model_type`s of `config.json` we can run.
pub const SUPPORTED_MODEL_TYPES: [&str; 5] = ["llama", "mistral", "qwen2", "gemma3_text", "gemma3"];

/// The fields of `config.json` we read, under HF's names, for every family at once. Absent and
/// `null` are both `None` (HF writes `null` for "use the default"); each family fills in the
/// defaults of its own config class.
#[derive(Deserialize)]
struct HfConfig {
    model_type: Option<String>,
    /// The text model of the multimodal `gemma3`.
    text_config: Option<Box<HfConfig>>,
    vocab_size: Option<usize>,
    hidden_size: Option<usize>,
    intermediate_size: Option<usize>,
    num_hidden_layers: Option<usize>,
    num_attention_heads: Option<usize>,
    num_key_value_heads: Option<usize>,
    head_dim: Option<usize>,
    rms_norm_eps: Option<f64>,
    rope_theta: Option<f64>,
    max_position_embeddings: Option<usize>,
    tie_word_embeddings: Option<bool>,
    rope_scaling: Option<RopeScaling>,
    // Llama, Mistral, Qwen2.
    hidden_act: Option<String>,
    use_sliding_window: Option<bool>,
    // Gemma 3.
    hidden_activation: Option<String>,
    attn_logit_softcapping: Option<f64>,
    final_logit_softcapping: Option<f64>,
    use_bidirectional_attention: Option<bool>,
    rope_local_base_freq: Option<f64>,
    query_pre_attn_scalar: Option<f64>,
    /// `Some(None)` when explicitly `null`: no window at all.
    #[serde(default, deserialize_with = "null_is_a_value")]
    sliding_window: Option<Option<usize>>,
    layer_types: Option<Vec<LayerType>>,
    sliding_window_pattern: Option<usize>,
    #[serde(rename = "_sliding_window_pattern")]
    older_sliding_window_pattern: Option<usize>,
}

/// For an `Option<Option<T>>` field with `#[serde(default)]`: absent is `None`, `null` is `Some(None)`.
fn null_is_a_value<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

#[derive(Deserialize)]
struct RopeScaling {
    rope_type: Option<String>,
    /// The older name of `rope_type`.
    #[serde(rename = "type")]
    kind: Option<String>,
}

#[derive(Clone, Copy, Deserialize, PartialEq)]
#[serde(rename_all = "snake_case")]
enum LayerType {
    FullAttention,
    SlidingAttention,
}

/// Where a config's fields are, for the messages of checks serde cannot make: the file, and
/// `text_config.` inside the multimodal wrapper.
struct Place<'a> {
    file: &'a Path,
    prefix: &'static str,
}

impl Place<'_> {
    /// `file: field `prefix.name``.
    fn field(&self, name: &str) -> String {
        format!("{}: field `{}{name}`", self.file.display(), self.prefix)
    }

    /// A field HF always writes for this family.
    fn required<T>(&self, name: &str, value: Option<T>, expected: &str) -> anyhow::Result<T> {
        value.with_context(|| format!("{} is missing (expected {expected})", self.field(name)))
    }

    /// `rope_scaling` must be absent, `null` or of type `default`: our rope tables are unscaled.
    fn reject_rope_scaling(&self, scaling: &Option<RopeScaling>) -> anyhow::Result<()> {
        let Some(scaling) = scaling else { return Ok(()) };
        let kind = scaling.rope_type.as_deref().or(scaling.kind.as_deref());
        ensure!(kind == Some("default"), "{} asks for `{}` rope scaling, which is not supported", self.field("rope_scaling"), kind.unwrap_or("unnamed"));
        Ok(())
    }
}

/// The configuration in `dir/config.json`.
pub fn read_config(dir: &Path) -> anyhow::Result<ModelConfig> {
    read_config_file(&dir.join("config.json"))
}

/// The configuration in an HF `config.json` file wherever it lies.
pub fn read_config_file(path: &Path) -> anyhow::Result<ModelConfig> {
    let root: HfConfig = json::read(path)?;
    let place = Place { file: path, prefix: "" };
    let model_type = place.required("model_type", root.model_type.as_deref(), "a string")?;
    let config = match model_type {
        "llama" | "mistral" | "qwen2" => llama_family(&root, &place, model_type),
        "gemma3_text" => gemma3(&root, &place),
        "gemma3" => {
            let text = place.required("text_config", root.text_config.as_deref(), "an object")?;
            let place = Place { file: path, prefix: "text_config." };
            if let Some(inner) = &text.model_type {
                ensure!(inner == "gemma3_text", "{} is `{inner}`, expected `gemma3_text`", place.field("model_type"));
            }
            gemma3(text, &place)
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
/// The sharded-checkpoint index `save_pretrained` writes beside the shards.
pub const INDEX: &str = "model.safetensors.index.json";

/// `model.safetensors.index.json`: the shard that holds each tensor.
#[derive(Deserialize)]
struct SafetensorsIndex {
    weight_map: BTreeMap<String, String>,
}

/// The shard file names a `model.safetensors.index.json` lists, sorted, each once.
pub fn index_shards(index: &Path) -> anyhow::Result<Vec<String>> {
    Ok(shards(&json::read::<SafetensorsIndex>(index)?.weight_map))
}

fn shards(weight_map: &BTreeMap<String, String>) -> Vec<String> {
    let files: BTreeSet<&String> = weight_map.values().collect();
    files.into_iter().cloned().collect()
}

/// The safetensors files of a directory (one, or the shards of the index, sorted) and the
/// tensor names the index lists (empty without an index).
pub fn safetensors_files(dir: &Path) -> anyhow::Result<(Vec<PathBuf>, BTreeSet<String>)> {
    let index = dir.join(INDEX);
    if index.is_file() {
        let weight_map = json::read::<SafetensorsIndex>(&index)?.weight_map;
        let files: Vec<PathBuf> = shards(&weight_map).iter().map(|file| dir.join(file)).collect();
        for file in &files {
            ensure!(file.is_file(), "{} lists {}, which is missing", index.display(), file.display());
        }
        return Ok((files, weight_map.into_keys().collect()));
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
fn llama_family(c: &HfConfig, place: &Place, model_type: &str) -> anyhow::Result<ModelConfig> {
    let activation = c.hidden_act.as_deref().unwrap_or("silu");
    ensure!(activation == "silu", "{} is `{activation}`, only `silu` is supported", place.field("hidden_act"));
    place.reject_rope_scaling(&c.rope_scaling)?;
    if model_type == "qwen2" && c.use_sliding_window.unwrap_or(false) {
        bail!("{}: sliding-window attention is not supported", place.field("use_sliding_window"));
    }
    let count = |name: &str, value: Option<usize>| place.required(name, value, "an unsigned integer");
    let hidden_size = count("hidden_size", c.hidden_size)?;
    let num_heads = count("num_attention_heads", c.num_attention_heads)?;
    let head_dim = c.head_dim.unwrap_or(hidden_size / num_heads.max(1));
    let rope_theta = c.rope_theta.unwrap_or(10_000.0);
    let default_positions = match model_type {
        "llama" => 2048,
        "mistral" => 4096 * 32,
        _ => 32_768,
    };
    Ok(ModelConfig {
        architecture: Architecture::Llama,
        vocab_size: count("vocab_size", c.vocab_size)?,
        hidden_size,
        intermediate_size: count("intermediate_size", c.intermediate_size)?,
        num_layers: count("num_hidden_layers", c.num_hidden_layers)?,
        num_heads,
        num_kv_heads: c.num_key_value_heads.unwrap_or(num_heads),
        head_dim,
        rms_norm_eps: c.rms_norm_eps.unwrap_or(1e-6),
        rope_theta,
        max_position_embeddings: c.max_position_embeddings.unwrap_or(default_positions),
        tie_word_embeddings: c.tie_word_embeddings.unwrap_or(false),
        rope_local_theta: rope_theta,
        sliding_window: None,
        sliding_window_pattern: 1,
        query_pre_attn_scalar: head_dim as f64,
    })
}

/// Gemma 3's text model. Every field has the default of HF's `Gemma3TextConfig`, because the
/// `text_config` of a multimodal `gemma3` config only lists the values that differ from them.
fn gemma3(c: &HfConfig, place: &Place) -> anyhow::Result<ModelConfig> {
    let activation = c.hidden_activation.as_deref().unwrap_or("gelu_pytorch_tanh");
    ensure!(activation == "gelu_pytorch_tanh", "{} is `{activation}`, only `gelu_pytorch_tanh` is supported", place.field("hidden_activation"));
    place.reject_rope_scaling(&c.rope_scaling)?;
    for (capping, value) in [("attn_logit_softcapping", c.attn_logit_softcapping), ("final_logit_softcapping", c.final_logit_softcapping)] {
        ensure!(value.is_none(), "{}: logit soft-capping is not supported", place.field(capping));
    }
    ensure!(!c.use_bidirectional_attention.unwrap_or(false), "{}: bidirectional attention is not supported", place.field("use_bidirectional_attention"));

    let num_layers = c.num_hidden_layers.unwrap_or(26);
    let mut sliding_window = c.sliding_window.unwrap_or(Some(4096));
    // Newer configs list each layer's kind; older ones give the period of the global layers.
    let pattern = match &c.layer_types {
        Some(types) => match layer_pattern(place, types, num_layers)? {
            Some(p) => p,
            None => {
                sliding_window = None;
                1
            }
        },
        None => c.sliding_window_pattern.or(c.older_sliding_window_pattern).unwrap_or(6),
    };
    ensure!(pattern > 0, "{}: a sliding-window pattern of 0", place.field("sliding_window_pattern"));
    Ok(ModelConfig {
        architecture: Architecture::Gemma3,
        vocab_size: c.vocab_size.unwrap_or(262_208),
        hidden_size: c.hidden_size.unwrap_or(2304),
        intermediate_size: c.intermediate_size.unwrap_or(9216),
        num_layers,
        num_heads: c.num_attention_heads.unwrap_or(8),
        num_kv_heads: c.num_key_value_heads.unwrap_or(4),
        head_dim: c.head_dim.unwrap_or(256),
        rms_norm_eps: c.rms_norm_eps.unwrap_or(1e-6),
        rope_theta: c.rope_theta.unwrap_or(1_000_000.0),
        max_position_embeddings: c.max_position_embeddings.unwrap_or(131_072),
        tie_word_embeddings: c.tie_word_embeddings.unwrap_or(true),
        rope_local_theta: c.rope_local_base_freq.unwrap_or(10_000.0),
        sliding_window,
        sliding_window_pattern: pattern,
        query_pre_attn_scalar: c.query_pre_attn_scalar.unwrap_or(256.0),
    })
}

/// The period `p` of `layer_types` (layer `i` is global iff `(i+1) % p == 0`), `None` when every
/// layer is global; an error for a layout that no period describes.
fn layer_pattern(place: &Place, types: &[LayerType], num_layers: usize) -> anyhow::Result<Option<usize>> {
    let name = place.field("layer_types");
    ensure!(types.len() == num_layers, "{name} lists {} layers, the model has {num_layers}", types.len());
    let global: Vec<bool> = types.iter().map(|&t| t == LayerType::FullAttention).collect();
    if global.iter().all(|&g| g) {
        return Ok(None);
    }
    // No global layer at all: a period longer than the model.
    let period = global.iter().position(|&g| g).map_or(num_layers + 1, |i| i + 1);
    let periodic = global.iter().enumerate().all(|(i, &g)| g == ((i + 1) % period == 0));
    ensure!(periodic, "{name}: global layers are not every {period}th layer, which is the only layout supported");
    Ok(Some(period))
}
