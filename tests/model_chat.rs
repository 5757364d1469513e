//! Chat templates: the models' own (rendered by minijinja) against our formats of prompts/chat/,
//! token id by token id, on the registry GGUFs (needs `cargo xtask fetch-model all`, as in CI);
//! and `dataeff score --chat` on a tiny HF checkpoint whose template is none of ours.

#![cfg(feature = "lm")]

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use candle_core::{DType, Device};
use dataeff::model::chat::{ChatTemplate, Message};
use dataeff::model::generate::continuation_log_probs;
use dataeff::model::gguf::GgufFile;
use dataeff::model::load::ModelFiles;
use dataeff::model::resolve::locate;
use dataeff::model::tokenizer::ModelTokenizer;

const SMOLLM2: &str = "smollm2-135m-instruct";
const GEMMA3: &str = "gemma-3-270m";
/// SmolLM2's default system prompt, which its template writes when a conversation has none.
const SMOLLM2_SYSTEM: &str = "You are a helpful AI assistant named SmolLM, trained by Hugging Face";

/// Prompts and answers with the edges a template may treat differently: spaces and newlines
/// around them, newlines inside, non-ASCII text, an answer that is one digit.
const CONVERSATIONS: [(&str, &str); 5] = [
    ("What is the capital of France?", "The capital of France is Paris."),
    ("2+2=", "4"),
    ("  Say hi.\n", " hi there \n"),
    ("Line one\nLine two\n\nAnd a third.", "One.\nTwo."),
    ("Qu'est-ce que «déjà vu» ? 日本語で。", "Déjà vu — 既視感."),
];

fn gguf(model: &str) -> PathBuf {
    locate(model).unwrap_or_else(|e| panic!("{e:#}"))
}

/// The ids of the prompt (BOS first when the tokenizer adds one) and of the answer part.
fn ids(tok: &ModelTokenizer, (prompt, answer): &(String, String)) -> (Vec<u32>, Vec<u32>) {
    (tok.encode_prompt(prompt).unwrap(), tok.encode(answer).unwrap())
}

#[test]
fn smollm2_own_template_gives_the_token_ids_of_our_smollm2_format() {
    let path = gguf(SMOLLM2);
    let tok = ModelTokenizer::from_gguf(&path).unwrap();
    let own = ChatTemplate::for_gguf(&path).unwrap();
    let ChatTemplate::Jinja(jinja) = &own else { panic!("SmolLM2's GGUF carries a template: got {}", own.name()) };
    let ours = ChatTemplate::for_name("smollm2").unwrap();

    for (prompt, answer) in CONVERSATIONS {
        let user_turn = |t: &ChatTemplate| tok.encode_prompt(&t.user_turn(prompt).unwrap()).unwrap();
        assert_eq!(user_turn(&own), user_turn(&ours), "user turn {prompt:?}");
        let (own_ids, our_ids) =
            (ids(&tok, &own.with_answer(prompt, answer).unwrap()), ids(&tok, &ours.with_answer(prompt, answer).unwrap()));
        assert_eq!(own_ids, our_ids, "{prompt:?} + {answer:?}");
    }
    assert_eq!(own.end_of_turn(), ours.end_of_turn());
    let end = tok.encode(own.end_of_turn()).unwrap();
    assert!(end.len() == 1 && tok.is_eos(end[0]), "<|im_end|> is one token that stops generation: {end:?}");

    // Our format has no system message: it is the template's default one, which the template
    // also writes when given it explicitly. Another system message only the template can write.
    let (prompt, _) = CONVERSATIONS[0];
    let explicit = jinja.render(&[Message::system(SMOLLM2_SYSTEM), Message::user(prompt)], true).unwrap();
    assert_eq!(tok.encode_prompt(&explicit).unwrap(), tok.encode_prompt(&ours.user_turn(prompt).unwrap()).unwrap());
    let other = jinja.render(&[Message::system("Answer in French."), Message::user(prompt)], true).unwrap();
    assert!(other.starts_with("<|im_start|>system\nAnswer in French.<|im_end|>\n<|im_start|>user\n"), "{other:?}");
    assert!(!other.contains(SMOLLM2_SYSTEM), "{other:?}");
}

#[test]
fn gemma_base_gguf_carries_no_template_and_gets_our_gemma_format() {
    let path = gguf(GEMMA3);
    let file = GgufFile::open(&path).unwrap();
    assert_eq!(file.metadata().opt_string("tokenizer.chat_template").unwrap(), None, "a template to test against ours");
    let tok = ModelTokenizer::from_gguf_file(&file).unwrap();
    let chat = ChatTemplate::for_gguf_file(&file, &tok, &Default::default()).unwrap();
    assert_eq!(chat.name(), "gemma", "picked by general.architecture = gemma3");
    let err = format!("{:#}", ChatTemplate::for_gguf_file(&file, &tok, &"template".parse().unwrap()).unwrap_err());
    assert!(err.contains("gemma-3-270m-q4_k_m.gguf") && err.contains("no chat template of its own"), "{err}");

    // What the file does have: the turn markers as single control tokens, the end one stopping
    // generation, and BOS added by the tokenizer.
    let (start, end) = (tok.token_id("<start_of_turn>").unwrap(), tok.token_id("<end_of_turn>").unwrap());
    let (prompt, answer) = ids(&tok, &chat.with_answer("  What is 2+2?\n", " 4 ").unwrap());
    let (user, model, newline) = (tok.encode("user").unwrap(), tok.encode("model").unwrap(), tok.encode("\n").unwrap());
    let expected: Vec<u32> =
        [vec![tok.bos().unwrap(), start], user, newline.clone(), tok.encode("What is 2+2?").unwrap()]
            .into_iter()
            .chain([vec![end], newline.clone(), vec![start], model, newline])
            .flatten()
            .collect();
    assert_eq!(prompt, expected);
    assert_eq!(answer, [tok.encode("4").unwrap(), vec![end]].concat());
    assert!(tok.is_eos(end) && tok.encode(chat.end_of_turn()).unwrap() == [end]);
}

// ---- a tiny HF checkpoint with a template of its own ----

use common::{TINY_TEMPLATE, tiny_checkpoint};

fn dataeff(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_dataeff")).args(args).output().expect("run dataeff");
    (out.status.success(), String::from_utf8(out.stdout).unwrap(), String::from_utf8(out.stderr).unwrap())
}

/// `dataeff score` on `dir` with `extra` arguments: the printed log-probability, and the printed
/// tokens (`--tokens`).
fn score(dir: &Path, extra: &[&str]) -> (f64, Vec<String>) {
    let model = dir.to_str().unwrap();
    let mut args = vec!["score", "--model", model, "--prompt", " Hello there ", "--continuation", "Hi!", "--tokens"];
    args.extend(extra);
    let (ok, out, err) = dataeff(&args);
    assert!(ok, "{err}");
    let mut lines = out.lines();
    let first: Vec<&str> = lines.next().unwrap().split('\t').collect();
    assert_eq!((first[0], first[2]), ("logprob", "tokens"), "{out}");
    let tokens: Vec<String> =
        lines.map(|l| l.split_whitespace().last().unwrap().trim_matches('"').to_string()).collect();
    assert_eq!(first[3].parse::<usize>().unwrap(), tokens.len(), "{out}");
    (first[1].parse().unwrap(), tokens)
}

#[test]
fn score_chat_uses_an_unfamiliar_template_of_an_hf_checkpoint() {
    let dir = tiny_checkpoint(Some(TINY_TEMPLATE));
    let files = ModelFiles::open(dir.path().to_str().unwrap(), DType::F32, &Device::Cpu).unwrap();
    assert_eq!(files.chat.name(), "template");
    let (prompt, answer) = files.chat.with_answer(" Hello there ", "Hi!").unwrap();
    assert_eq!(
        (prompt.as_str(), answer.as_str()),
        ("<|user|>Hello there\n<|bot|>", "Hi!<|end|>"),
        "BOS is the tokenizer's"
    );
    assert_eq!(files.chat.end_of_turn(), "<|end|>");

    // The CLI scores the answer and its end-of-turn marker after the chat prompt, as the library does.
    let (logprob, tokens) = score(dir.path(), &["--chat"]);
    assert_eq!(tokens, ["H", "i", "!", "<|end|>"]);
    let model = files.build().unwrap();
    let (prompt, answer) = ids(&files.tokenizer, &(prompt, answer));
    assert_eq!(prompt[0], files.tokenizer.bos().unwrap());
    let expected: f64 = continuation_log_probs(model.as_ref(), &prompt, &answer).unwrap().iter().sum();
    assert_eq!(format!("{logprob:.6}"), format!("{expected:.6}"));

    // Without --chat the bare continuation; --chat-format overrides the model's template.
    assert_eq!(score(dir.path(), &[]).1, ["H", "i", "!"]);
    let (plain, tokens) = score(dir.path(), &["--chat", "--chat-format", "plain"]);
    assert_eq!(tokens, ["H", "i", "!", "Ċ"], "plain's answer ends with a newline");
    assert_ne!(plain, logprob);

    // And generation loads it too.
    let (ok, _, err) = dataeff(&[
        "generate",
        "--model",
        dir.path().to_str().unwrap(),
        "--chat",
        "--prompt",
        "Hi",
        "--max-new-tokens",
        "2",
    ]);
    assert!(ok, "{err}");
}

#[test]
fn hf_checkpoint_templates_from_their_files_or_the_architecture() {
    let open = |dir: &tempfile::TempDir| ModelFiles::open(dir.path().to_str().unwrap(), DType::F32, &Device::Cpu);
    // No template: plain, Llama's architecture having no format of ours; `template` insists.
    let bare = tiny_checkpoint(None);
    assert_eq!(open(&bare).unwrap().chat.name(), "plain");
    let (ok, _, err) = dataeff(&[
        "score",
        "--model",
        bare.path().to_str().unwrap(),
        "--chat-format",
        "template",
        "--prompt",
        "a",
        "--continuation",
        "b",
    ]);
    assert!(!ok && err.contains("no chat template of its own; name one of ours with --chat-format"), "{err}");

    // A list of named templates (transformers' form for several): `default` is the chat one.
    let named = serde_json::json!([
        {"name": "tool_use", "template": "{{ raise_exception('tools') }}"},
        {"name": "default", "template": TINY_TEMPLATE},
    ]);
    let dir = tiny_checkpoint(None);
    let config = serde_json::json!({"bos_token": "<s>", "eos_token": "</s>", "chat_template": named});
    std::fs::write(dir.path().join("tokenizer_config.json"), config.to_string()).unwrap();
    // Without `add_bos_token` (and no post-processor adding it) the tokenizer adds no BOS: the
    // template's stays in the text.
    let files = open(&dir).unwrap();
    assert!(!files.tokenizer.add_bos());
    assert_eq!(files.chat.user_turn("x").unwrap(), "<s><|user|>x\n<|bot|>");

    // chat_template.jinja, where transformers saves it now, wins.
    std::fs::write(dir.path().join("chat_template.jinja"), "{% for m in messages %}[{{ m.content }}]{% endfor %}")
        .unwrap();
    let files = open(&dir).unwrap();
    assert_eq!((files.chat.user_turn("x").unwrap(), files.chat.end_of_turn()), ("[x]".to_string(), "]"));

    // A template that cannot render a user turn fails the load with the way out.
    std::fs::write(dir.path().join("chat_template.jinja"), "{{ raise_exception('system message required') }}").unwrap();
    let err = format!("{:#}", open(&dir).err().unwrap());
    assert!(
        err.contains("chat_template.jinja") && err.contains("system message required") && err.contains("--chat-format"),
        "{err}"
    );
    // Which --chat-format gets past, as it does a `chat_template` that is not even a template.
    std::fs::write(dir.path().join("tokenizer_config.json"), r#"{"chat_template": 3}"#).unwrap();
    std::fs::remove_file(dir.path().join("chat_template.jinja")).unwrap();
    assert!(format!("{:#}", open(&dir).err().unwrap()).contains("`chat_template` is a string or a list"));
    let (ok, out, err) = dataeff(&[
        "score",
        "--model",
        dir.path().to_str().unwrap(),
        "--chat",
        "--chat-format",
        "plain",
        "--prompt",
        "a",
        "--continuation",
        "b",
    ]);
    assert!(ok && out.starts_with("logprob\t"), "{err}");
}
