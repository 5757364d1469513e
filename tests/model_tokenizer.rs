//! The tokenizers built from the two registry GGUFs against reference ids (tests/fixtures/tokenizer/,
//! see its README for how they were made), and the chat formats against the GGUF's own template.
//! Needs the models fetched (`cargo xtask fetch-model`), as in CI.

#![cfg(feature = "lm")]

use std::path::PathBuf;
use std::sync::OnceLock;

use dataeff::model::chat::ChatTemplate;
use dataeff::model::resolve::locate;
use dataeff::model::tokenizer::ModelTokenizer;
use serde::Deserialize;

const SMOLLM2: &str = "smollm2-135m-instruct";
const GEMMA3: &str = "gemma-3-270m";

fn gguf(model: &str) -> PathBuf {
    locate(model).unwrap_or_else(|e| panic!("{e:#}"))
}

/// Each tokenizer is built once for the whole file (Gemma's has 262,144 tokens).
fn tokenizer(model: &str) -> &'static ModelTokenizer {
    static SMOL: OnceLock<ModelTokenizer> = OnceLock::new();
    static GEMMA: OnceLock<ModelTokenizer> = OnceLock::new();
    let cell = match model {
        SMOLLM2 => &SMOL,
        GEMMA3 => &GEMMA,
        _ => unreachable!(),
    };
    cell.get_or_init(|| {
        let started = std::time::Instant::now();
        let tok = ModelTokenizer::from_gguf(&gguf(model)).unwrap_or_else(|e| panic!("{e:#}"));
        eprintln!("{model}: tokenizer built from the GGUF in {:.2} s", started.elapsed().as_secs_f64());
        tok
    })
}

#[derive(Deserialize)]
struct Fixture {
    gguf: String,
    bos: u32,
    eos: u32,
    pad: u32,
    prompt_ids_of_hello: Vec<u32>,
    cases: Vec<Case>,
}

#[derive(Deserialize)]
struct Case {
    text: String,
    ids: Vec<u32>,
    pieces: Vec<String>,
}

fn fixture(name: &str) -> Fixture {
    let path = format!("{}/tests/fixtures/tokenizer/{name}.json", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Every fixture string gives the reference ids, and the pieces the reference names.
fn assert_matches_reference(model: &str, fixture_name: &str) {
    let (tok, fx) = (tokenizer(model), fixture(fixture_name));
    assert_eq!(gguf(model).file_name().unwrap().to_str().unwrap(), fx.gguf);
    assert!(fx.cases.len() >= 25, "{fixture_name}: only {} cases", fx.cases.len());
    let mut wrong = Vec::new();
    for case in &fx.cases {
        let ids = tok.encode(&case.text).unwrap();
        let pieces: Vec<String> = ids.iter().map(|&id| tok.token(id).unwrap()).collect();
        if ids != case.ids || pieces != case.pieces {
            wrong.push(format!(
                "{:?}:\n  ours      {ids:?} {pieces:?}\n  reference {:?} {:?}",
                case.text, case.ids, case.pieces
            ));
        }
    }
    assert!(wrong.is_empty(), "{model}: {} of {} strings differ:\n{}", wrong.len(), fx.cases.len(), wrong.join("\n"));
}

#[test]
fn smollm2_gives_the_reference_ids() {
    assert_matches_reference(SMOLLM2, "smollm2");
}

#[test]
fn gemma3_gives_the_reference_ids() {
    assert_matches_reference(GEMMA3, "gemma3");
}

#[test]
fn decoding_gives_back_the_text() {
    for (model, name) in [(SMOLLM2, "smollm2"), (GEMMA3, "gemma3")] {
        let tok = tokenizer(model);
        for case in fixture(name).cases {
            let decoded = tok.decode(&tok.encode(&case.text).unwrap()).unwrap();
            // SentencePiece writes a space as `▁`, so a `▁` in the text comes back as a space.
            let expected = if model == GEMMA3 { case.text.replace('\u{2581}', " ") } else { case.text.clone() };
            assert_eq!(decoded, expected, "{model}");
        }
    }
}

#[test]
fn smollm2_drops_characters_its_byte_alphabet_lacks() {
    // SmolLM2's vocabulary has no piece for six ASCII control characters (0x04, 0x06, 0x13, 0x14,
    // 0x16, 0x1D) nor for the bytes 0xF1, 0xF2: like the reference, the BPE leaves them out.
    assert_eq!(tokenizer(SMOLLM2).encode("a\u{4}b").unwrap(), [81, 82]);
}

#[test]
fn special_tokens_in_text_become_single_ids() {
    let smol = tokenizer(SMOLLM2);
    for (text, id) in [("<|endoftext|>", 0), ("<|im_start|>", 1), ("<|im_end|>", 2)] {
        assert_eq!(smol.encode(text).unwrap(), [id], "{text}");
        assert_eq!(smol.encode(&format!("a{text}b")).unwrap()[1], id, "{text}");
    }
    let gemma = tokenizer(GEMMA3);
    for (text, id) in [("<pad>", 0), ("<eos>", 1), ("<bos>", 2), ("<start_of_turn>", 105), ("<end_of_turn>", 106)] {
        assert_eq!(gemma.encode(text).unwrap(), [id], "{text}");
        assert_eq!(gemma.encode(&format!("a{text}b")).unwrap()[1], id, "{text}");
    }
    // Control tokens are left out on request; Gemma's newline is a user-defined token and stays.
    let ids = gemma.encode("<start_of_turn>user\nHi<end_of_turn>").unwrap();
    assert_eq!(gemma.decode_skip_special(&ids).unwrap(), "user\nHi");
    assert_eq!(gemma.decode(&ids).unwrap(), "<start_of_turn>user\nHi<end_of_turn>");
}

#[test]
fn smollm2_special_ids_and_no_bos() {
    let (tok, fx) = (tokenizer(SMOLLM2), fixture("smollm2"));
    assert_eq!(tok.vocab_size(), 49_152);
    assert_eq!((tok.bos(), tok.eos()[0], tok.pad()), (Some(fx.bos), fx.eos, Some(fx.pad)));
    assert_eq!(tok.eos(), [2, 0], "<|im_end|> ends a turn, <|endoftext|> a document");
    assert!(tok.is_eos(2) && tok.is_eos(0) && !tok.is_eos(1));
    assert!(!tok.add_bos());
    assert_eq!(tok.encode_prompt("Hello").unwrap(), fx.prompt_ids_of_hello);
}

#[test]
fn gemma3_special_ids_and_bos_first() {
    let (tok, fx) = (tokenizer(GEMMA3), fixture("gemma3"));
    assert_eq!(tok.vocab_size(), 262_144);
    assert_eq!((tok.bos(), tok.eos()[0], tok.pad()), (Some(fx.bos), fx.eos, Some(fx.pad)));
    assert_eq!(tok.eos(), [1, 106], "<eos>, and <end_of_turn> ends a turn");
    assert!(tok.is_eos(106) && !tok.is_eos(105) && !tok.is_eos(212), "212 is the HTML tag </s>");
    assert!(tok.add_bos());
    assert_eq!(tok.encode_prompt("Hello").unwrap(), fx.prompt_ids_of_hello);
    assert_eq!(tok.encode_prompt("").unwrap(), [2]);
    let err = tok.decode(&[9259, 262_144]).unwrap_err().to_string();
    assert_eq!(err, "decoding: id 262144 is not in the vocabulary of 262144 tokens");
}

#[test]
fn gemma3_keeps_common_words_whole() {
    // An older converter cut "▁capital" into ▁c/ap/it/al.
    let tok = tokenizer(GEMMA3);
    let ids = tok.encode("The capital of France is Paris.").unwrap();
    let pieces: Vec<String> = ids.iter().map(|&id| tok.token(id).unwrap()).collect();
    assert_eq!(pieces, ["The", "▁capital", "▁of", "▁France", "▁is", "▁Paris", "."]);
    assert_eq!(tok.encode(" capital").unwrap(), [tok.token_id("▁capital").unwrap()]);
    assert_eq!(tok.encode(" France").unwrap(), [tok.token_id("▁France").unwrap()]);
}

#[test]
fn digits_are_one_token_each() {
    for model in [SMOLLM2, GEMMA3] {
        let tok = tokenizer(model);
        let ids = tok.encode("12345").unwrap();
        let pieces: Vec<String> = ids.iter().map(|&id| tok.token(id).unwrap()).collect();
        assert_eq!(pieces, ["1", "2", "3", "4", "5"], "{model}");
        assert_eq!(tok.encode(" 2025").unwrap().len(), 5, "{model}: the space, then four digits");
    }
}

#[test]
fn smollm2_chat_format_is_what_the_gguf_template_renders() {
    #[derive(Deserialize)]
    struct Chat {
        gguf: String,
        prompt: String,
        answer: String,
        generation_prompt: String,
        conversation: String,
    }
    let path = format!("{}/tests/fixtures/tokenizer/chat_smollm2.json", env!("CARGO_MANIFEST_DIR"));
    let chat: Chat = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let gguf = gguf(SMOLLM2);
    assert_eq!(gguf.file_name().unwrap().to_str().unwrap(), chat.gguf);

    let format = ChatTemplate::for_gguf(&gguf).unwrap();
    assert_eq!(format.name(), "template", "the GGUF's own");
    assert_eq!(format.user_turn(&chat.prompt).unwrap(), chat.generation_prompt);
    let (prompt, answer) = format.with_answer(&chat.prompt, &chat.answer).unwrap();
    assert_eq!(prompt, chat.generation_prompt);
    assert_eq!(answer, format!("{}<|im_end|>", chat.answer));
    // The template writes a newline after every turn; the answer part stops at <|im_end|>.
    assert_eq!(format!("{prompt}{answer}\n"), chat.conversation);
}

#[test]
fn gemma3_gets_gemma_turns_by_architecture() {
    let format = ChatTemplate::for_gguf(&gguf(GEMMA3)).unwrap();
    assert_eq!(format.name(), "gemma");
    let (prompt, answer) = format.with_answer("What is 2+2?", "4").unwrap();
    assert_eq!(prompt, "<start_of_turn>user\nWhat is 2+2?<end_of_turn>\n<start_of_turn>model\n");
    assert_eq!(answer, "4<end_of_turn>");
    let tok = tokenizer(GEMMA3);
    let ids = tok.encode_prompt(&prompt).unwrap();
    assert_eq!(&ids[..3], [2, 105, 2364], "<bos> <start_of_turn> user");
    assert_eq!(tok.encode(&answer).unwrap().last(), Some(&106));
}

#[test]
fn prompt_and_answer_tokenised_apart_equal_tokenised_together() {
    // Training tokenises the two parts separately to mask the prompt: no token may straddle them.
    for (model, format) in [(SMOLLM2, "smollm2"), (GEMMA3, "gemma"), (SMOLLM2, "plain"), (GEMMA3, "plain")] {
        let (tok, format) = (tokenizer(model), ChatTemplate::for_name(format).unwrap());
        for (q, a) in [("What is the capital of France?", "Paris"), ("2+2=", "4"), ("Say hi.", " hi there")] {
            let (prompt, answer) = format.with_answer(q, a).unwrap();
            let mut apart = tok.encode(&prompt).unwrap();
            apart.extend(tok.encode(&answer).unwrap());
            assert_eq!(
                apart,
                tok.encode(&format!("{prompt}{answer}")).unwrap(),
                "{model} {}: {q:?} {a:?}",
                format.name()
            );
        }
    }
}

#[test]
fn a_saved_tokenizer_json_loads_back_with_its_config() {
    let smol = tokenizer(SMOLLM2);
    let dir = tempfile::tempdir().unwrap();
    smol.inner().save(dir.path().join("tokenizer.json"), false).unwrap();
    let config = r#"{"bos_token": "<|im_start|>", "eos_token": {"content": "<|im_end|>"}, "pad_token": "<|im_end|>", "add_bos_token": false}"#;
    std::fs::write(dir.path().join("tokenizer_config.json"), config).unwrap();

    let loaded = ModelTokenizer::from_hf_dir(dir.path()).unwrap();
    assert_eq!((loaded.bos(), loaded.eos(), loaded.pad(), loaded.add_bos()), (Some(1), &[2, 0][..], Some(2), false));
    for case in fixture("smollm2").cases {
        assert_eq!(loaded.encode(&case.text).unwrap(), case.ids, "{:?}", case.text);
    }

    // Without a config: no BOS is known, and the tokenizer adds none.
    let bare = ModelTokenizer::from_tokenizer_json(&dir.path().join("tokenizer.json"), None).unwrap();
    assert_eq!((bare.bos(), bare.eos(), bare.add_bos()), (None, &[2, 0][..], false));

    std::fs::write(dir.path().join("tokenizer_config.json"), r#"{"eos_token": "<|nope|>"}"#).unwrap();
    let err = ModelTokenizer::from_hf_dir(dir.path()).unwrap_err().to_string();
    assert!(
        err.contains("tokenizer_config.json: eos_token = \"<|nope|>\" is not in the tokenizer's vocabulary"),
        "{err}"
    );
    std::fs::write(dir.path().join("tokenizer_config.json"), "{\"bos_token\": 3}").unwrap();
    let err = ModelTokenizer::from_hf_dir(dir.path()).unwrap_err().to_string();
    assert!(err.contains("tokenizer_config.json: field `bos_token`: expected a token text or an object with `content`"), "{err}");
}
