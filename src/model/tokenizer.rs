//! A model's tokenizer, built from the model's own files: the vocabulary a GGUF carries in its
//! metadata, or a Hugging Face `tokenizer.json`. The tokenising itself is done by the `tokenizers`
//! crate; this module only assembles its parts the way each vocabulary was trained:
//!
//! - `tokenizer.ggml.model = "gpt2"` (SmolLM2): byte-level BPE with the file's own merges, the text
//!   first cut by the pre-tokenizer that `tokenizer.ggml.pre` names (`smollm`: every digit alone,
//!   then the GPT-2 split).
//! - `tokenizer.ggml.model = "llama"` (Gemma 3): SentencePiece BPE. The file has pieces with scores
//!   but no merges; SentencePiece repeatedly merges the adjacent pair whose merged piece scores
//!   highest, which is a BPE whose merge ranks follow the merged pieces' scores.
//!
//! In both, the file's control tokens (`<|im_end|>`, `<start_of_turn>`) and user-defined tokens
//! (Gemma's `\n`, `\t`, `<b>`, runs of spaces) are matched whole, longest first, before the BPE sees
//! the text. tests/fixtures/tokenizer/README.md says how this was checked against transformers and
//! the sentencepiece library, and where transformers' GGUF loader gets it wrong.

use std::path::Path;

use anyhow::{Context as _, anyhow, bail};
use serde::Deserialize;
use super::gguf::{GgufFile, Metadata};
use tokenizers::decoders::DecoderWrapper;
use tokenizers::decoders::byte_fallback::ByteFallback;
use tokenizers::decoders::fuse::Fuse;
use tokenizers::decoders::sequence::Sequence as DecoderSequence;
use tokenizers::models::bpe::{BPE, Merges, Vocab};
use tokenizers::normalizers::replace::Replace;
use tokenizers::pre_tokenizers::PreTokenizerWrapper;
use tokenizers::pre_tokenizers::byte_level::ByteLevel;
use tokenizers::pre_tokenizers::digits::Digits;
use tokenizers::pre_tokenizers::sequence::Sequence as PreTokenizerSequence;
use tokenizers::{AddedToken, Tokenizer};

/// Texts of tokens that end a turn or a document. A vocabulary's special tokens among these all
/// stop generation, besides its own EOS (an instruct model ends its answer with the turn marker).
const END_OF_GENERATION: [&str; 5] = ["<|im_end|>", "<end_of_turn>", "<|eot_id|>", "<|endoftext|>", "<eos>"];

/// SentencePiece's word-boundary mark, standing for a space.
const SPACE_MARK: &str = "\u{2581}";

/// A tokenizer together with the ids a model gives special meaning to.
#[derive(Clone)]
pub struct ModelTokenizer {
    inner: Tokenizer,
    /// Computing it walks the added tokens, so it is kept.
    vocab_size: usize,
    bos: Option<u32>,
    /// Every id that ends generation, the model's own EOS first.
    eos: Vec<u32>,
    add_bos: bool,
    pad: Option<u32>,
}

impl std::fmt::Debug for ModelTokenizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ModelTokenizer")
            .field("vocab_size", &self.vocab_size())
            .field("bos", &self.bos)
            .field("eos", &self.eos)
            .field("add_bos", &self.add_bos)
            .field("pad", &self.pad)
            .finish()
    }
}

impl ModelTokenizer {
    /// The tokenizer described by a GGUF file's `tokenizer.ggml.*` metadata.
    pub fn from_gguf(path: &Path) -> anyhow::Result<Self> {
        Self::from_gguf_file(&GgufFile::open(path)?)
    }

    /// The same from a GGUF file whose header is already read (as [`super::load`] has it).
    pub fn from_gguf_file(file: &GgufFile) -> anyhow::Result<Self> {
        let path = file.path();
        let vocab = GgufVocab::read(file.metadata())?;
        let inner = match vocab.model.as_str() {
            "gpt2" => vocab.byte_level_bpe(),
            "llama" => vocab.sentencepiece_bpe(),
            other => Err(anyhow!("tokenizer.ggml.model = `{other}` is not supported (expected `gpt2` or `llama`)")),
        }
        .with_context(|| format!("building the tokenizer of {}", path.display()))?;
        // llama.cpp's defaults when the file does not say: SentencePiece vocabularies start with BOS.
        let add_bos = vocab.add_bos.unwrap_or(vocab.model == "llama");
        let eos = end_of_generation_ids(&inner, vocab.eos);
        Ok(Self::new(inner, vocab.bos, eos, add_bos, vocab.pad))
    }

    /// The tokenizer of a Hugging Face model directory: `tokenizer.json`, and `tokenizer_config.json`
    /// when there is one.
    pub fn from_hf_dir(dir: &Path) -> anyhow::Result<Self> {
        let config = dir.join("tokenizer_config.json");
        Self::from_tokenizer_json(&dir.join("tokenizer.json"), config.is_file().then_some(config.as_path()))
    }

    /// A Hugging Face `tokenizer.json`, with BOS, EOS, padding and `add_bos_token` from
    /// `tokenizer_config.json` when given. Without `add_bos_token`, BOS is added when the
    /// tokenizer's own post-processor adds it (as Llama's and Gemma's do).
    pub fn from_tokenizer_json(tokenizer_json: &Path, tokenizer_config: Option<&Path>) -> anyhow::Result<Self> {
        let inner =
            Tokenizer::from_file(tokenizer_json).map_err(|e| anyhow!("reading {}: {e}", tokenizer_json.display()))?;
        let config = match tokenizer_config {
            Some(path) => HfTokenizerConfig::read(path, &inner)?,
            None => HfTokenizerConfig::default(),
        };
        // The id the tokenizer's post-processor puts before the text, if any.
        let added_by_post_processor = {
            let plain = inner.encode("a", false).map_err(|e| anyhow!("{}: {e}", tokenizer_json.display()))?;
            let with = inner.encode("a", true).map_err(|e| anyhow!("{}: {e}", tokenizer_json.display()))?;
            let (plain, with) = (plain.get_ids(), with.get_ids());
            (with.len() > plain.len() && with[1..].starts_with(plain)).then(|| with[0])
        };
        let bos = config.bos.or(added_by_post_processor);
        let add_bos = config.add_bos.unwrap_or(bos.is_some() && added_by_post_processor == bos);
        let eos = end_of_generation_ids(&inner, config.eos);
        Ok(Self::new(inner, bos, eos, add_bos, config.pad))
    }

    fn new(inner: Tokenizer, bos: Option<u32>, eos: Vec<u32>, add_bos: bool, pad: Option<u32>) -> Self {
        let vocab_size = inner.get_vocab_size(true);
        Self { inner, vocab_size, bos, eos, add_bos, pad }
    }

    /// Token ids of `text`, no BOS added. Special tokens written in the text (`<|im_start|>`,
    /// `<start_of_turn>`) become their single ids.
    pub fn encode(&self, text: &str) -> anyhow::Result<Vec<u32>> {
        let encoding = self.inner.encode(text, false).map_err(|e| {
            let start: String = text.chars().take(60).collect();
            anyhow!("tokenizing {start:?}{}: {e}", if start.len() < text.len() { "..." } else { "" })
        })?;
        Ok(encoding.get_ids().to_vec())
    }

    /// Token ids of a prompt that starts a sequence: BOS first when the model wants one.
    pub fn encode_prompt(&self, text: &str) -> anyhow::Result<Vec<u32>> {
        let mut ids = Vec::new();
        if let (true, Some(bos)) = (self.add_bos, self.bos) {
            ids.push(bos);
        }
        ids.extend(self.encode(text)?);
        Ok(ids)
    }

    /// The text of `ids`, special tokens included.
    pub fn decode(&self, ids: &[u32]) -> anyhow::Result<String> {
        self.decode_with(ids, false)
    }

    /// The text of `ids` without the special (control) tokens.
    pub fn decode_skip_special(&self, ids: &[u32]) -> anyhow::Result<String> {
        self.decode_with(ids, true)
    }

    fn decode_with(&self, ids: &[u32], skip_special: bool) -> anyhow::Result<String> {
        // `tokenizers` would leave an unknown id out without a word.
        if let Some(&id) = ids.iter().find(|&&id| self.inner.id_to_token(id).is_none()) {
            bail!("decoding: id {id} is not in the vocabulary of {} tokens", self.vocab_size);
        }
        self.inner.decode(ids, skip_special).map_err(|e| anyhow!("decoding {} ids: {e}", ids.len()))
    }

    /// The vocabulary's piece for `id`, as stored (`Ġworld`, `▁world`, `<0x0A>`).
    pub fn token(&self, id: u32) -> Option<String> {
        self.inner.id_to_token(id)
    }

    /// The id of the piece `token`, as stored.
    pub fn token_id(&self, token: &str) -> Option<u32> {
        self.inner.token_to_id(token)
    }

    /// Number of ids, added tokens included.
    pub fn vocab_size(&self) -> usize {
        self.vocab_size
    }

    /// Whether generation stops at `id`.
    pub fn is_eos(&self, id: u32) -> bool {
        self.eos.contains(&id)
    }

    pub fn bos(&self) -> Option<u32> {
        self.bos
    }

    /// Every id that ends generation, the model's own EOS first.
    pub fn eos(&self) -> &[u32] {
        &self.eos
    }

    pub fn add_bos(&self) -> bool {
        self.add_bos
    }

    pub fn pad(&self) -> Option<u32> {
        self.pad
    }

    /// The underlying `tokenizers` tokenizer (offsets, batch encoding, saving as `tokenizer.json`).
    pub fn inner(&self) -> &Tokenizer {
        &self.inner
    }
}

/// `eos` first, then every special token of the vocabulary that [`END_OF_GENERATION`] names.
fn end_of_generation_ids(tokenizer: &Tokenizer, eos: Option<u32>) -> Vec<u32> {
    let added = tokenizer.get_added_vocabulary();
    let mut ids: Vec<u32> = eos.into_iter().collect();
    for text in END_OF_GENERATION {
        let special = tokenizer.token_to_id(text).filter(|_| added.is_special_token(text));
        if let Some(id) = special.filter(|id| !ids.contains(id)) {
            ids.push(id);
        }
    }
    ids
}

/// llama.cpp's token types (`tokenizer.ggml.token_type`).
mod token_type {
    pub const NORMAL: i32 = 1;
    pub const CONTROL: i32 = 3;
    pub const USER_DEFINED: i32 = 4;
}

/// The `tokenizer.ggml.*` metadata of one GGUF file.
struct GgufVocab {
    model: String,
    pre: Option<String>,
    tokens: Vec<String>,
    types: Vec<i32>,
    scores: Option<Vec<f32>>,
    merges: Option<Vec<String>>,
    bos: Option<u32>,
    eos: Option<u32>,
    unk: Option<u32>,
    pad: Option<u32>,
    add_bos: Option<bool>,
    add_space_prefix: Option<bool>,
}

impl GgufVocab {
    fn read(meta: Metadata) -> anyhow::Result<Self> {
        let path = meta.path();
        // A token id must lie inside the vocabulary.
        let token_id = |key: &str, vocab_size: usize| -> anyhow::Result<Option<u32>> {
            let Some(id) = meta.opt_usize(key)? else { return Ok(None) };
            if id >= vocab_size {
                bail!("{}: {key} = {id} is outside the vocabulary of {vocab_size} tokens", path.display());
            }
            Ok(Some(id as u32))
        };
        let tokens =
            meta.opt_array("tokenizer.ggml.tokens", "strings", |v| v.to_string().cloned())?.with_context(|| {
                format!("{}: tokenizer.ggml.tokens is missing: the file has no vocabulary", path.display())
            })?;
        let per_token = |key: &str, len: Option<usize>| match len {
            Some(len) if len != tokens.len() => {
                bail!("{}: {key} has {len} entries, expected one per token ({})", path.display(), tokens.len())
            }
            _ => Ok(()),
        };
        let types = meta.opt_array("tokenizer.ggml.token_type", "i32 values", |v| v.to_i32())?;
        per_token("tokenizer.ggml.token_type", types.as_ref().map(Vec::len))?;
        let scores = meta.opt_array("tokenizer.ggml.scores", "f32 values", |v| v.to_f32())?;
        per_token("tokenizer.ggml.scores", scores.as_ref().map(Vec::len))?;
        let vocab = Self {
            model: meta
                .opt_string("tokenizer.ggml.model")?
                .map(str::to_string)
                .with_context(|| format!("{}: tokenizer.ggml.model is missing", path.display()))?,
            pre: meta.opt_string("tokenizer.ggml.pre")?.map(str::to_string),
            merges: meta.opt_array("tokenizer.ggml.merges", "strings", |v| v.to_string().cloned())?,
            bos: token_id("tokenizer.ggml.bos_token_id", tokens.len())?,
            eos: token_id("tokenizer.ggml.eos_token_id", tokens.len())?,
            unk: token_id("tokenizer.ggml.unknown_token_id", tokens.len())?,
            pad: token_id("tokenizer.ggml.padding_token_id", tokens.len())?,
            add_bos: meta.opt_bool("tokenizer.ggml.add_bos_token")?,
            add_space_prefix: meta.opt_bool("tokenizer.ggml.add_space_prefix")?,
            types: types.unwrap_or_else(|| vec![token_type::NORMAL; tokens.len()]),
            tokens,
            scores,
        };
        Ok(vocab)
    }

    /// token → id; a vocabulary with a repeated token has no such map.
    fn vocab(tokens: &[String]) -> anyhow::Result<Vocab> {
        let mut vocab = Vocab::with_capacity(tokens.len());
        for (id, token) in tokens.iter().enumerate() {
            if vocab.insert(token.clone(), id as u32).is_some() {
                bail!("tokenizer.ggml.tokens: token {token:?} appears twice (again at id {id})");
            }
        }
        Ok(vocab)
    }

    /// SmolLM2, GPT-2 and the like: byte-level BPE with the file's merges.
    fn byte_level_bpe(&self) -> anyhow::Result<Tokenizer> {
        let merges = self.merges.as_ref().context("tokenizer.ggml.merges is missing (a gpt2 vocabulary needs it)")?;
        let merges: Merges = merges
            .iter()
            .map(|m| {
                m.split_once(' ')
                    .map(|(a, b)| (a.to_string(), b.to_string()))
                    .with_context(|| format!("tokenizer.ggml.merges: {m:?} is not two tokens separated by a space"))
            })
            .collect::<anyhow::Result<_>>()?;
        let bpe = BPE::builder()
            .vocab_and_merges(Self::vocab(&self.tokens)?, merges)
            .build()
            .map_err(|e| anyhow!("tokenizer.ggml.merges: {e}"))?;
        let mut tokenizer = Tokenizer::new(bpe);
        // The GPT-2 split (contractions, letters, digits, punctuation, spaces) is ByteLevel's own regex.
        let gpt2 = PreTokenizerWrapper::from(ByteLevel::new(false, true, true));
        // A file without the key predates it; GPT-2's split is the one byte-level BPE began with.
        let pre_tokenizer = match self.pre.as_deref().unwrap_or("gpt2") {
            "gpt2" => gpt2,
            // llama.cpp's `smollm` isolates every digit (`\p{N}`) before the GPT-2 split.
            "smollm" => PreTokenizerSequence::new(vec![Digits::new(true).into(), gpt2]).into(),
            other => {
                bail!("tokenizer.ggml.pre = `{other}` is not supported for a gpt2 vocabulary (known: gpt2, smollm)")
            }
        };
        tokenizer.with_pre_tokenizer(Some(pre_tokenizer));
        tokenizer.with_decoder(Some(ByteLevel::default()));
        self.add_whole_tokens(&mut tokenizer, &self.tokens)?;
        Ok(tokenizer)
    }

    /// Gemma: SentencePiece BPE over pieces with scores; spaces are `▁`, no dummy prefix, unknown
    /// characters fall back to `<0x..>` byte pieces.
    fn sentencepiece_bpe(&self) -> anyhow::Result<Tokenizer> {
        if self.add_space_prefix != Some(false) {
            bail!(
                "tokenizer.ggml.add_space_prefix is {:?}: only SentencePiece vocabularies without a dummy prefix \
                 (Gemma's, `false`) are supported",
                self.add_space_prefix
            );
        }
        let scores = self.scores.as_ref().context("tokenizer.ggml.scores is missing (a llama vocabulary needs it)")?;
        let unk = self.unk.context("tokenizer.ggml.unknown_token_id is missing (a llama vocabulary needs it)")?;
        // Gemma stores its user-defined runs of spaces with real spaces, but SentencePiece meets
        // them after turning every space into `▁`: spell them that way.
        let pieces: Vec<String> = (0..self.tokens.len())
            .map(|id| match self.is_space_run(id) {
                true => SPACE_MARK.repeat(self.tokens[id].len()),
                false => self.tokens[id].clone(),
            })
            .collect();
        let vocab = Self::vocab(&pieces)?;

        // SentencePiece merges, among adjacent pairs whose concatenation is a normal piece, the one
        // whose concatenation scores highest (ties: the leftmost). As BPE merges: every split of
        // every normal piece into two normal pieces, ranked by the whole piece's score.
        let normal = |id: usize| self.types[id] == token_type::NORMAL;
        let mut by_score: Vec<usize> = (0..pieces.len()).filter(|&id| normal(id)).collect();
        by_score.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]).then(a.cmp(&b)));
        let is_normal_piece = |piece: &str| vocab.get(piece).is_some_and(|&id| normal(id as usize));
        let mut merges: Merges = Vec::new();
        for id in by_score {
            let piece = &pieces[id];
            for (split, _) in piece.char_indices().skip(1) {
                let (left, right) = piece.split_at(split);
                if is_normal_piece(left) && is_normal_piece(right) {
                    merges.push((left.to_string(), right.to_string()));
                }
            }
        }
        let bpe = BPE::builder()
            .vocab_and_merges(vocab, merges)
            .unk_token(pieces[unk as usize].clone())
            .fuse_unk(true)
            .byte_fallback(true)
            .build()
            .map_err(|e| anyhow!("deriving merges from tokenizer.ggml.tokens: {e}"))?;
        let mut tokenizer = Tokenizer::new(bpe);
        let spaces = Replace::new(" ", SPACE_MARK).map_err(|e| anyhow!("{e}"))?;
        tokenizer.with_normalizer(Some(spaces)).map_err(|e| anyhow!("{e}"))?;
        let marks_to_spaces = Replace::new(SPACE_MARK, " ").map_err(|e| anyhow!("{e}"))?;
        tokenizer.with_decoder(Some(DecoderSequence::new(vec![
            DecoderWrapper::from(marks_to_spaces),
            ByteFallback::new().into(),
            Fuse::new().into(),
        ])));
        self.add_whole_tokens(&mut tokenizer, &pieces)?;
        Ok(tokenizer)
    }

    /// A user-defined token made of spaces only (Gemma's `"  "` to 31 spaces).
    fn is_space_run(&self, id: usize) -> bool {
        self.types[id] == token_type::USER_DEFINED && self.tokens[id].bytes().all(|b| b == b' ')
    }

    /// Control tokens become special added tokens and user-defined ones plain added tokens: both
    /// are matched whole (longest first) before the model sees the text, as SentencePiece matches
    /// user-defined pieces. Runs of spaces are matched after spaces became `▁` (`normalized`).
    fn add_whole_tokens(&self, tokenizer: &mut Tokenizer, pieces: &[String]) -> anyhow::Result<()> {
        let of_type = |wanted: i32, special: bool| -> Vec<AddedToken> {
            (0..pieces.len())
                .filter(|&id| self.types[id] == wanted)
                .map(|id| AddedToken::from(pieces[id].clone(), special).normalized(self.is_space_run(id)))
                .collect()
        };
        tokenizer.add_special_tokens(of_type(token_type::CONTROL, true)).map_err(|e| anyhow!("{e}"))?;
        tokenizer.add_tokens(of_type(token_type::USER_DEFINED, false)).map_err(|e| anyhow!("{e}"))?;
        if tokenizer.get_vocab_size(true) != pieces.len() {
            bail!("the special tokens added ids beyond the {} of tokenizer.ggml.tokens", pieces.len());
        }
        Ok(())
    }
}

/// What `tokenizer_config.json` says about special tokens.
#[derive(Default)]
struct HfTokenizerConfig {
    bos: Option<u32>,
    eos: Option<u32>,
    pad: Option<u32>,
    add_bos: Option<bool>,
}

/// The fields of `tokenizer_config.json` read; `null` is the same as absent.
#[derive(Deserialize)]
struct TokenizerConfigFile {
    bos_token: Option<TokenText>,
    eos_token: Option<TokenText>,
    pad_token: Option<TokenText>,
    add_bos_token: Option<bool>,
}

/// A token as `tokenizer_config.json` writes it: its text, or an added-token object.
#[derive(Deserialize)]
#[serde(untagged, expecting = "expected a token text or an object with `content`")]
enum TokenText {
    Text(String),
    Added { content: String },
}

impl HfTokenizerConfig {
    fn read(path: &Path, tokenizer: &Tokenizer) -> anyhow::Result<Self> {
        let file: TokenizerConfigFile = crate::json::read(path)?;
        let id = |key: &str, token: Option<TokenText>| -> anyhow::Result<Option<u32>> {
            let Some(TokenText::Text(text) | TokenText::Added { content: text }) = token else { return Ok(None) };
            let id = tokenizer.token_to_id(&text);
            id.map(Some)
                .with_context(|| format!("{}: {key} = {text:?} is not in the tokenizer's vocabulary", path.display()))
        };
        Ok(Self {
            bos: id("bos_token", file.bos_token)?,
            eos: id("eos_token", file.eos_token)?,
            pad: id("pad_token", file.pad_token)?,
            add_bos: file.add_bos_token,
        })
    }
}
