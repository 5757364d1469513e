//! GGUF files (llama.cpp's format) as a [`ModelConfig`] and [`Weights`] in Hugging Face naming and
//! layout, so that the models see the same tensors whatever file they came from.
//!
//! Three things differ from an HF checkpoint, and are undone here:
//! - names: `blk.3.attn_q.weight` is `model.layers.3.self_attn.q_proj.weight` ([`hf_name`]);
//! - `llama` architecture: llama.cpp's converter permutes the rows of q and k inside each head for
//!   its interleaved rope; our models use HF's rotate-half rope, so the rows are put back;
//! - `gemma3` architecture: the converter stores every RMS-norm weight as `1 + w` (llama.cpp
//!   multiplies by the stored weight), while HF stores `w` and applies `1 + w`: 1 is subtracted.
//!
//! The configuration comes from the metadata (`<arch>.block_count`, …); what llama.cpp hard-codes
//! for Gemma 3 (layer pattern, local rope base, attention scale) is hard-coded here the same way.

use std::collections::HashMap;
use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail, ensure};
use candle_core::quantized::gguf_file::{Content, Value};
use candle_core::{DType, Device, Tensor};

use super::config::{Architecture, ModelConfig};
use super::weights::Weights;

/// Values of `general.architecture` we can run.
pub const SUPPORTED_ARCHITECTURES: [&str; 2] = ["llama", "gemma3"];

/// Gemma 3 constants llama.cpp hard-codes rather than reading them from the file
/// (`llama_model::load_hparams`, case `LLM_ARCH_GEMMA3`); they match HF's Gemma 3 configs.
const GEMMA3_SLIDING_WINDOW_PATTERN: usize = 6;
const GEMMA3_LOCAL_ROPE_THETA: f64 = 10_000.0;
/// The one Gemma 3 size (27B, 62 layers) whose attention is scaled by `hidden/heads` rather than
/// by the head dimension (HF: `query_pre_attn_scalar` 168 instead of 128).
const GEMMA3_27B_LAYERS: usize = 62;

/// Read a model's configuration from a GGUF file's metadata, without reading the weights.
pub fn read_config(path: &Path) -> anyhow::Result<ModelConfig> {
    GgufFile::open(path)?.config()
}

/// Read a model's configuration and all its weights (dequantised, in HF naming and layout,
/// converted to `dtype` on `device`).
pub fn load(path: &Path, dtype: DType, device: &Device) -> anyhow::Result<(ModelConfig, Weights)> {
    let mut file = GgufFile::open(path)?;
    let config = file.config()?;
    let weights = file.weights(&config, dtype, device)?;
    Ok((config, weights))
}

/// An open GGUF file: its header (metadata and tensor directory) read, the tensors not yet.
pub struct GgufFile {
    path: PathBuf,
    content: Content,
    reader: BufReader<File>,
}

impl GgufFile {
    pub fn open(path: &Path) -> anyhow::Result<Self> {
        let file = File::open(path).with_context(|| format!("opening GGUF file {}", path.display()))?;
        let mut reader = BufReader::new(file);
        // candle's own message ("unknown magic 0x…") does not say what the file should have been.
        let n = expect_magic(&mut reader, path)?;
        reader.seek_relative(-(n as i64))?;
        let content = Content::read(&mut reader).map_err(|e| {
            // candle says "failed to fill whole buffer" when the file ends inside the header.
            if e.to_string().contains("failed to fill whole buffer") {
                let size = std::fs::metadata(path).map_or(0, |m| m.len());
                anyhow::anyhow!(
                    "{}: the GGUF header is cut short: the file ends after {size} bytes (a truncated download? fetch it again)",
                    path.display()
                )
            } else {
                anyhow::Error::from(e).context(format!("reading the GGUF header of {}", path.display()))
            }
        })?;
        Ok(GgufFile { path: path.to_path_buf(), content, reader })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The header as candle reads it (every metadata value, the tensor directory).
    pub fn content(&self) -> &Content {
        &self.content
    }

    pub fn metadata(&self) -> Metadata<'_> {
        Metadata { path: &self.path, values: &self.content.metadata }
    }

    /// Names of the tensors in the file (GGUF naming), sorted.
    pub fn tensor_names(&self) -> Vec<&str> {
        let mut names: Vec<&str> = self.content.tensor_infos.keys().map(String::as_str).collect();
        names.sort_unstable();
        names
    }

    /// Shape of a tensor in the file (row-major, as candle reads it), without reading it.
    pub fn tensor_shape(&self, name: &str) -> Option<&[usize]> {
        self.content.tensor_infos.get(name).map(|info| info.shape.dims())
    }

    /// One tensor exactly as stored (GGUF name and layout, no offset or permutation undone),
    /// dequantised to f32.
    pub fn raw_tensor(&mut self, name: &str, device: &Device) -> anyhow::Result<Tensor> {
        let q = self
            .content
            .tensor(&mut self.reader, name, device)
            .with_context(|| format!("reading tensor `{name}` from {}", self.path.display()))?;
        q.dequantize(device).with_context(|| format!("dequantising tensor `{name}` from {}", self.path.display()))
    }

    /// The model configuration the metadata describes.
    pub fn config(&self) -> anyhow::Result<ModelConfig> {
        let meta = self.metadata();
        let path = self.path.display();
        let arch_name = meta.string("general.architecture")?;
        let architecture = match arch_name {
            "llama" => Architecture::Llama,
            "gemma3" => Architecture::Gemma3,
            other => bail!("{path}: architecture `{other}` is not supported (supported: {})", SUPPORTED_ARCHITECTURES.join(", ")),
        };
        let key = |k: &str| format!("{arch_name}.{k}");

        let hidden_size = meta.usize(&key("embedding_length"))?;
        let num_layers = meta.usize(&key("block_count"))?;
        let num_heads = meta.usize(&key("attention.head_count"))?;
        let num_kv_heads = meta.opt_usize(&key("attention.head_count_kv"))?.unwrap_or(num_heads);
        ensure!(
            num_heads > 0 && num_kv_heads > 0 && num_heads % num_kv_heads == 0,
            "{path}: {num_heads} attention heads cannot share {num_kv_heads} key/value heads"
        );
        let head_dim = meta.opt_usize(&key("attention.key_length"))?.unwrap_or(hidden_size / num_heads);
        if let Some(v) = meta.opt_usize(&key("attention.value_length"))? {
            ensure!(v == head_dim, "{path}: value heads of {v} dimensions differ from key heads of {head_dim} (unsupported)");
        }
        if let Some(r) = meta.opt_usize(&key("rope.dimension_count"))? {
            ensure!(r == head_dim, "{path}: rope over {r} of {head_dim} head dimensions (partial rope) is not supported");
        }
        if let Some(scaling) = meta.opt_string(&key("rope.scaling.type"))? {
            ensure!(scaling == "none", "{path}: rope scaling `{scaling}` ({}) is not supported", key("rope.scaling.type"));
        }
        ensure!(
            !self.content.tensor_infos.contains_key("rope_freqs.weight"),
            "{path}: per-frequency rope scaling (tensor `rope_freqs.weight`, Llama 3.1 style) is not supported"
        );

        // The embedding's rows are the vocabulary the model computes logits over.
        let embed = self.tensor_shape("token_embd.weight").with_context(|| format!("{path}: tensor `token_embd.weight` is missing"))?;
        ensure!(embed.len() == 2 && embed[1] == hidden_size, "{path}: `token_embd.weight` has shape {embed:?}, expected (vocab, {hidden_size})");
        let vocab_size = embed[0];
        if let Some(v) = meta.opt_usize(&key("vocab_size"))? {
            ensure!(v == vocab_size, "{path}: {} says {v} tokens but `token_embd.weight` has {vocab_size} rows", key("vocab_size"));
        }

        let gemma = architecture == Architecture::Gemma3;
        let rope_theta = meta.opt_f64(&key("rope.freq_base"))?.unwrap_or(if gemma { 1_000_000.0 } else { 10_000.0 });
        Ok(ModelConfig {
            architecture,
            vocab_size,
            hidden_size,
            intermediate_size: meta.usize(&key("feed_forward_length"))?,
            num_layers,
            num_heads,
            num_kv_heads,
            head_dim,
            rms_norm_eps: meta.f64(&key("attention.layer_norm_rms_epsilon"))?,
            rope_theta,
            max_position_embeddings: meta.usize(&key("context_length"))?,
            tie_word_embeddings: !self.content.tensor_infos.contains_key("output.weight"),
            rope_local_theta: if gemma { GEMMA3_LOCAL_ROPE_THETA } else { rope_theta },
            sliding_window: if gemma { Some(meta.usize(&key("attention.sliding_window"))?) } else { None },
            sliding_window_pattern: if gemma { GEMMA3_SLIDING_WINDOW_PATTERN } else { 1 },
            query_pre_attn_scalar: if gemma && num_layers == GEMMA3_27B_LAYERS {
                (hidden_size / num_heads) as f64
            } else {
                head_dim as f64
            },
        })
    }

    /// Every tensor of the file, renamed to HF names and brought to HF layout (see the module
    /// doc), as `dtype` on `device`. Weights are checked against [`super::weight_shapes`].
    pub fn weights(&mut self, cfg: &ModelConfig, dtype: DType, device: &Device) -> anyhow::Result<Weights> {
        let mut tensors = HashMap::new();
        let names: Vec<String> = self.tensor_names().into_iter().map(str::to_string).collect();
        for name in names {
            let hf = hf_name(&name, cfg.architecture).with_context(|| {
                format!(
                    "{}: tensor `{name}` has no counterpart in an HF {:?} model (unsupported variant?)",
                    self.path.display(),
                    cfg.architecture
                )
            })?;
            // Convert first so that the offset below is exact in f64.
            let t = self.raw_tensor(&name, device)?.to_dtype(dtype)?;
            let t = match cfg.architecture {
                Architecture::Llama if name.contains(".attn_q.") => unpermute_rope_rows(&t, cfg.num_heads)?,
                Architecture::Llama if name.contains(".attn_k.") => unpermute_rope_rows(&t, cfg.num_kv_heads)?,
                Architecture::Gemma3 if name.ends_with("norm.weight") => t.affine(1.0, -1.0)?,
                _ => t,
            };
            tensors.insert(hf, t);
        }
        let weights = Weights { tensors, source: self.path.display().to_string() };
        weights.check_shapes(&super::weight_shapes(cfg))?;
        Ok(weights)
    }
}

/// `Read::read` until `buf` is full or the file ends; the number of bytes read.
/// The first bytes of every GGUF file.
const MAGIC: &[u8; 4] = b"GGUF";

/// Read the first bytes of `reader` and fail unless they are the GGUF magic; `path` names the
/// file in the error. Returns how many bytes were read.
fn expect_magic(reader: &mut impl std::io::Read, path: &Path) -> anyhow::Result<usize> {
    let mut magic = [0u8; 4];
    let n = read_up_to(reader, &mut magic).with_context(|| format!("{}: cannot read", path.display()))?;
    if &magic[..n] != MAGIC {
        bail!(
            "{}: not a GGUF file (it starts with {:?}, expected the magic bytes \"GGUF\"); pass a .gguf file or a \
             directory with config.json, tokenizer.json and *.safetensors",
            path.display(),
            String::from_utf8_lossy(&magic[..n])
        );
    }
    Ok(n)
}

/// Fail unless the file at `path` starts with the GGUF magic (a quick check before any header is read).
pub fn check_magic(path: &Path) -> anyhow::Result<()> {
    let mut file = File::open(path).with_context(|| format!("{}: cannot open", path.display()))?;
    expect_magic(&mut file, path).map(|_| ())
}

fn read_up_to(reader: &mut impl std::io::Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match reader.read(&mut buf[n..])? {
            0 => break,
            k => n += k,
        }
    }
    Ok(n)
}

/// HF name of a GGUF tensor of an architecture, `None` for a tensor HF models do not have.
pub fn hf_name(gguf_name: &str, arch: Architecture) -> Option<String> {
    let (stem, kind) = gguf_name.rsplit_once('.')?;
    if kind != "weight" && kind != "bias" {
        return None;
    }
    let top = match stem {
        "token_embd" => Some("model.embed_tokens"),
        "output_norm" => Some("model.norm"),
        "output" => Some("lm_head"),
        _ => None,
    };
    if let Some(top) = top {
        return Some(format!("{top}.{kind}"));
    }
    let (layer, part) = stem.strip_prefix("blk.")?.split_once('.')?;
    let layer: usize = layer.parse().ok()?;
    use Architecture::{Gemma3, Llama};
    let part = match (part, arch) {
        ("attn_norm", _) => "input_layernorm",
        ("attn_q", _) => "self_attn.q_proj",
        ("attn_k", _) => "self_attn.k_proj",
        ("attn_v", _) => "self_attn.v_proj",
        ("attn_output", _) => "self_attn.o_proj",
        ("ffn_gate", _) => "mlp.gate_proj",
        ("ffn_up", _) => "mlp.up_proj",
        ("ffn_down", _) => "mlp.down_proj",
        // The norm before the MLP: Llama has no norm after attention, so HF calls it "post attention".
        ("ffn_norm", Llama) => "post_attention_layernorm",
        ("ffn_norm", Gemma3) => "pre_feedforward_layernorm",
        ("post_attention_norm", Gemma3) => "post_attention_layernorm",
        ("post_ffw_norm", Gemma3) => "post_feedforward_layernorm",
        ("attn_q_norm", Gemma3) => "self_attn.q_norm",
        ("attn_k_norm", Gemma3) => "self_attn.k_norm",
        _ => return None,
    };
    Some(format!("model.layers.{layer}.{part}.{kind}"))
}

/// Undo llama.cpp's q/k row permutation. Its converter views each head's rows as
/// (2, head_dim/2) — the two halves that rotate-half rope pairs up — and transposes them to
/// (head_dim/2, 2) so that pairs are adjacent, as interleaved rope wants. Transposing back
/// restores HF's order. Works on a weight (rows, cols) and on a bias (rows).
pub fn unpermute_rope_rows(t: &Tensor, heads: usize) -> anyhow::Result<Tensor> {
    let rows = t.dim(0)?;
    ensure!(heads > 0 && rows % (2 * heads) == 0, "cannot split {rows} rows into {heads} heads of row pairs");
    let cols = t.elem_count() / rows;
    Ok(t.reshape((heads, rows / heads / 2, 2, cols))?.transpose(1, 2)?.reshape(t.shape())?)
}

/// Typed access to GGUF metadata whose errors name the file, the key and the expected type.
#[derive(Clone, Copy)]
pub struct Metadata<'a> {
    path: &'a Path,
    values: &'a HashMap<String, Value>,
}

impl<'a> Metadata<'a> {
    /// The raw value (e.g. the token arrays of `tokenizer.ggml.*`).
    pub fn get(&self, key: &str) -> Option<&'a Value> {
        self.values.get(key)
    }

    fn require(&self, key: &str, expected: &str) -> anyhow::Result<&'a Value> {
        self.get(key).with_context(|| format!("{}: metadata key `{key}` is missing (expected {expected})", self.path.display()))
    }

    fn mistyped(&self, key: &str, value: &Value, expected: &str) -> anyhow::Error {
        anyhow::anyhow!("{}: metadata key `{key}` holds {:?}, expected {expected}", self.path.display(), value.value_type())
    }

    /// A non-negative integer of any width.
    pub fn usize(&self, key: &str) -> anyhow::Result<usize> {
        let value = self.require(key, "an unsigned integer")?;
        let n: Option<i128> = match *value {
            Value::U8(v) => Some(v.into()),
            Value::U16(v) => Some(v.into()),
            Value::U32(v) => Some(v.into()),
            Value::U64(v) => Some(v.into()),
            Value::I8(v) => Some(v.into()),
            Value::I16(v) => Some(v.into()),
            Value::I32(v) => Some(v.into()),
            Value::I64(v) => Some(v.into()),
            _ => None,
        };
        n.and_then(|n| usize::try_from(n).ok()).ok_or_else(|| self.mistyped(key, value, "an unsigned integer"))
    }

    pub fn opt_usize(&self, key: &str) -> anyhow::Result<Option<usize>> {
        self.get(key).map(|_| self.usize(key)).transpose()
    }

    /// A number. An f32 is read as the shortest decimal that rounds to it (converters store HF's
    /// decimal values, e.g. `rms_norm_eps` 1e-5, as f32: this gives back 1e-5, not 9.99999974e-6).
    pub fn f64(&self, key: &str) -> anyhow::Result<f64> {
        let value = self.require(key, "a number")?;
        match *value {
            Value::F32(v) => Ok(v.to_string().parse().expect("an f32 prints as a valid f64")),
            Value::F64(v) => Ok(v),
            Value::U8(v) => Ok(v.into()),
            Value::U16(v) => Ok(v.into()),
            Value::U32(v) => Ok(v.into()),
            Value::U64(v) => Ok(v as f64),
            Value::I8(v) => Ok(v.into()),
            Value::I16(v) => Ok(v.into()),
            Value::I32(v) => Ok(v.into()),
            Value::I64(v) => Ok(v as f64),
            _ => Err(self.mistyped(key, value, "a number")),
        }
    }

    pub fn opt_f64(&self, key: &str) -> anyhow::Result<Option<f64>> {
        self.get(key).map(|_| self.f64(key)).transpose()
    }

    pub fn string(&self, key: &str) -> anyhow::Result<&'a str> {
        match self.require(key, "a string")? {
            Value::String(s) => Ok(s),
            other => Err(self.mistyped(key, other, "a string")),
        }
    }

    pub fn opt_string(&self, key: &str) -> anyhow::Result<Option<&'a str>> {
        self.get(key).map(|_| self.string(key)).transpose()
    }

    pub fn opt_bool(&self, key: &str) -> anyhow::Result<Option<bool>> {
        self.get(key)
            .map(|value| match value {
                Value::Bool(b) => Ok(*b),
                other => Err(self.mistyped(key, other, "a bool")),
            })
            .transpose()
    }

    /// An array whose every element `convert` accepts (`of` names what it expects, for errors),
    /// e.g. the `tokenizer.ggml.*` token lists.
    pub fn opt_array<T>(&self, key: &str, of: &str, convert: impl Fn(&Value) -> candle_core::Result<T>) -> anyhow::Result<Option<Vec<T>>> {
        let Some(value) = self.get(key) else { return Ok(None) };
        let Value::Array(values) = value else { return Err(self.mistyped(key, value, &format!("an array of {of}"))) };
        let converted = values.iter().map(convert).collect::<candle_core::Result<Vec<T>>>();
        converted.map(Some).map_err(|e| anyhow::anyhow!("{}: metadata key `{key}`: expected an array of {of}: {e}", self.path.display()))
    }

    /// The file the metadata came from (for messages).
    pub fn path(&self) -> &'a Path {
        self.path
    }
}
