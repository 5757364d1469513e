#!/usr/bin/env python3
"""The PyTorch side of `cargo xtask bench --compare-torch`.

Reads the workloads the Rust benchmark ran (`target/bench/workloads.json`, written by
`cargo bench --bench runtime`), runs the same work with PyTorch + transformers + PEFT on the same
GGUF files, dequantised to f32, and writes the measurements in the layout of dataeff's own
`target/bench/dataeff.json`:

    python bench_torch.py --workloads target/bench/workloads.json --out target/bench/torch.json [--threads N]

Each workload mirrors dataeff's semantics (see `benches/runtime.rs`):

- forward: one 1x128 forward pass, logits at every position; tokens/s over the median of 3 runs.
- train_step: LoRA fine-tuning steps on one right-padded batch, loss on the answer tokens only,
  AdamW; real tokens/s over the median step.
- generate: greedy generation of exactly max_new_tokens for every prompt in one left-padded batch,
  KV cache on; prompts/s over the median of 3 runs.
- confidence: the same in batches, with each prompt's mean top-token probability; prompts/s.
- coslow: per-example LoRA-B gradients (A frozen, B = 0, no dropout) and the median pairwise
  cosine; examples/s.

Peak RSS is reset before each workload (/proc/self/clear_refs) and read after it (VmHWM).
Progress goes to stderr.
"""

import argparse
import gc
import json
import platform
import statistics
import sys
import time
import warnings
from importlib.metadata import version
from pathlib import Path

import torch
from peft import LoraConfig, get_peft_model
from transformers import AutoModelForCausalLM

# Deprecation notices from inside the libraries (peft calls transformers' old names) are noise here.
warnings.filterwarnings("ignore", category=FutureWarning)

# Warm-up runs before the timed ones, and timed runs where the workload does not say.
WARMUP = 1
RUNS = 3


def log(message):
    print(message, file=sys.stderr, flush=True)


# --- measurement helpers -------------------------------------------------------------------------


def reset_peak():
    """Reset the peak-RSS counter (VmHWM) so the next reading covers one workload (Linux)."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        pass


def status_mib(field):
    """A memory field of /proc/self/status (`VmHWM`, `VmRSS`), in MiB (0 where /proc is missing)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return 0.0


def peak_mib():
    """Peak resident memory since the last reset, in MiB."""
    return status_mib("VmHWM")


def seconds_of(fn):
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def median_seconds(fn, runs=RUNS, warmup=WARMUP):
    """Median wall time of `runs` calls of `fn`, after `warmup` untimed calls."""
    for _ in range(warmup):
        fn()
    return statistics.median(seconds_of(fn) for _ in range(runs))


def row(model, workload, unit, count, seconds, note=None):
    """One result row: `count` items (tokens or examples) done in `seconds`."""
    out = {
        "model": model,
        "workload": workload,
        "unit": unit,
        "value": count / seconds,
        "seconds": seconds,
        "peak_rss_mib": peak_mib(),
    }
    if note is not None:
        out["note"] = note
    return out


# --- batching ------------------------------------------------------------------------------------

# Pad id: every pad position is masked out (attention mask, labels -100), so its value is moot.
PAD = 0


def right_padded_batch(examples):
    """prompt + answer per row, right-padded; labels are the answer tokens only (-100 elsewhere).
    The model shifts the labels itself: position p's logits are scored against label p + 1."""
    seqs = [ex["prompt"] + ex["answer"] for ex in examples]
    width = max(len(s) for s in seqs)
    ids, mask, labels = [], [], []
    for ex, seq in zip(examples, seqs):
        pad = width - len(seq)
        ids.append(seq + [PAD] * pad)
        mask.append([1] * len(seq) + [0] * pad)
        labels.append([-100] * len(ex["prompt"]) + ex["answer"] + [-100] * pad)
    return torch.tensor(ids), torch.tensor(mask), torch.tensor(labels)


def left_padded_batch(prompts):
    width = max(len(p) for p in prompts)
    ids = [[PAD] * (width - len(p)) + p for p in prompts]
    mask = [[0] * (width - len(p)) + [1] * len(p) for p in prompts]
    return torch.tensor(ids), torch.tensor(mask)


def greedy(model, prompts, max_new_tokens, logits=False):
    """Greedy generation of exactly `max_new_tokens` per prompt (the end token is never allowed to
    stop it early), one left-padded batch, KV cache on."""
    ids, mask = left_padded_batch(prompts)
    with torch.inference_mode():
        return model.generate(
            input_ids=ids,
            attention_mask=mask,
            max_new_tokens=max_new_tokens,
            min_new_tokens=max_new_tokens,
            do_sample=False,
            num_beams=1,
            top_k=None,
            top_p=None,
            temperature=None,
            use_cache=True,
            pad_token_id=PAD,
            output_logits=logits,
            return_dict_in_generate=True,
        )


def lora_config(spec):
    return LoraConfig(
        task_type="CAUSAL_LM",
        r=spec["rank"],
        lora_alpha=spec["alpha"],
        lora_dropout=spec["dropout"],
        target_modules=list(spec["targets"]),
    )


def remove_lora(peft_model):
    """Take the adapters back out, leaving the base model as it was loaded."""
    base = peft_model.unload()
    base.eval()
    gc.collect()
    return base


# --- workloads -----------------------------------------------------------------------------------


def bench_forward(model, name, spec):
    ids = torch.tensor([spec["ids"]])

    def forward():
        with torch.inference_mode():
            model(input_ids=ids, use_cache=False).logits

    seconds = median_seconds(forward)
    return row(name, "forward", "tokens/s", ids.shape[1], seconds)


def bench_train_step(model, name, spec):
    peft_model = get_peft_model(model, lora_config(spec["lora"]))
    peft_model.train()
    trainable = [p for p in peft_model.parameters() if p.requires_grad]
    optimiser = torch.optim.AdamW(trainable, lr=spec["learning_rate"], weight_decay=0.0)
    ids, mask, labels = right_padded_batch(spec["examples"])
    tokens = sum(len(ex["prompt"]) + len(ex["answer"]) for ex in spec["examples"])
    losses = []

    def step():
        loss = peft_model(input_ids=ids, attention_mask=mask, labels=labels, use_cache=False).loss
        loss.backward()
        optimiser.step()
        optimiser.zero_grad(set_to_none=True)
        losses.append(loss.item())

    seconds = median_seconds(step, runs=spec["steps"])
    result = row(name, "train_step", "tokens/s", tokens, seconds, note=f"losses {', '.join(f'{l:.3f}' for l in losses)}")
    del optimiser, trainable
    return result, remove_lora(peft_model)


def bench_generate(model, name, spec):
    prompts, n = spec["prompts"], spec["max_new_tokens"]
    seconds = median_seconds(lambda: greedy(model, prompts, n))
    return row(name, "generate", "examples/s", len(prompts), seconds)


def confidences(model, prompts, max_new_tokens):
    """Each prompt's mean top-token probability over its generated tokens."""
    out = greedy(model, prompts, max_new_tokens, logits=True)
    logits = torch.stack(out.logits, dim=1).float()  # (batch, new tokens, vocab), unprocessed
    top = torch.softmax(logits, dim=-1).amax(dim=-1)
    return top.mean(dim=1).tolist()


def bench_confidence(model, name, spec):
    prompts, n, size = spec["prompts"], spec["max_new_tokens"], spec["batch_size"]
    batches = [prompts[i : i + size] for i in range(0, len(prompts), size)]
    confidences(model, batches[0], n)  # warm-up
    found = []
    start = time.perf_counter()
    for batch in batches:
        found.extend(confidences(model, batch, n))
    seconds = time.perf_counter() - start
    note = f"mean confidence {statistics.fmean(found):.4f}"
    return row(name, "confidence", "examples/s", len(prompts), seconds, note=note)


def bench_coslow(model, name, spec):
    peft_model = get_peft_model(model, lora_config(spec["lora"]))
    peft_model.eval()  # no dropout
    lora_b = []
    for pname, param in peft_model.named_parameters():
        if "lora_B" in pname:
            param.requires_grad_(True)
            lora_b.append(param)
        else:
            param.requires_grad_(False)  # lora_A and the base model
    examples = spec["examples"]

    def gradient(ex):
        ids = torch.tensor([ex["prompt"] + ex["answer"]])
        labels = torch.tensor([[-100] * len(ex["prompt"]) + ex["answer"]])
        peft_model(input_ids=ids, labels=labels, use_cache=False).loss.backward()

    gradient(examples[0])  # warm-up, as dataeff's bench does
    for p in lora_b:
        p.grad = None
    start = time.perf_counter()
    sketches = None
    for i, ex in enumerate(examples):
        gradient(ex)
        grad = torch.cat([p.grad.reshape(-1) for p in lora_b])
        if sketches is None:
            sketches = torch.empty(len(examples), grad.numel(), dtype=torch.float32)
        sketches[i] = grad
        for p in lora_b:
            p.grad = None
    unit = torch.nn.functional.normalize(sketches, dim=1)
    cosines = unit @ unit.T
    upper = torch.triu_indices(len(examples), len(examples), offset=1)
    median = statistics.median(cosines[upper[0], upper[1]].double().tolist())
    seconds = time.perf_counter() - start
    note = f"median cos {median:.4f}; sketch {sketches.shape[1]} floats"
    result = row(name, "coslow", "examples/s", len(examples), seconds, note=note)
    del sketches, unit, cosines
    return result, remove_lora(peft_model)


# --- driver --------------------------------------------------------------------------------------


def load(gguf):
    path = Path(gguf)
    if not path.is_file():
        sys.exit(f"{path}: no such GGUF file (workloads.json names it; fetch it with `cargo xtask fetch-model`)")
    model = AutoModelForCausalLM.from_pretrained(str(path.parent), gguf_file=path.name, dtype=torch.float32)
    model.eval()
    return model


def bench_model(spec, seed):
    name = spec["name"]
    log(f"== {name}: loading {spec['gguf']} (dequantising to f32)")
    start = time.perf_counter()
    model = load(spec["gguf"])
    log(f"   loaded in {time.perf_counter() - start:.1f} s ({type(model).__name__})")
    if spec.get("vocab_size") not in (None, model.config.vocab_size):
        log(f"   warning: workloads.json says vocab {spec['vocab_size']}, the model has {model.config.vocab_size}")
    rows = []

    def run(workload, fn):
        nonlocal model
        if workload not in spec:
            return
        log(f"   {workload}...")
        torch.manual_seed(seed)
        reset_peak()
        result = fn(model, name, spec[workload])
        if isinstance(result, tuple):
            result, model = result
        log(f"   {workload}: {result['value']:.2f} {result['unit']}, {result['seconds']:.3f} s, "
            f"peak RSS {result['peak_rss_mib']:.0f} MiB" + (f" ({result['note']})" if "note" in result else ""))
        rows.append(result)

    run("forward", bench_forward)
    run("train_step", bench_train_step)
    run("generate", bench_generate)
    run("confidence", bench_confidence)
    run("coslow", bench_coslow)
    del model
    gc.collect()
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workloads", type=Path, required=True, help="workloads.json written by the Rust bench")
    parser.add_argument("--out", type=Path, required=True, help="where to write the measurements (JSON)")
    parser.add_argument("--threads", type=int, help="torch threads (default: workloads.json's `threads`)")
    args = parser.parse_args()

    try:
        workloads = json.loads(args.workloads.read_text())
    except FileNotFoundError:
        sys.exit(f"{args.workloads}: not found; run the Rust bench first (`cargo bench --bench runtime`), which writes it")
    except json.JSONDecodeError as e:
        sys.exit(f"{args.workloads}: not valid JSON ({e}); expected the Rust bench's workloads file")
    if not isinstance(workloads.get("models"), list):
        sys.exit(f"{args.workloads}: expected an object with a `models` list")

    threads = args.threads or workloads.get("threads") or torch.get_num_threads()
    torch.set_num_threads(threads)
    seed = workloads.get("seed", 0)
    versions = {
        "torch": torch.__version__,
        "transformers": version("transformers"),
        "peft": version("peft"),
        "gguf": version("gguf"),
        "python": platform.python_version(),
    }
    log(f"PyTorch bench, {threads} threads: " + ", ".join(f"{k} {v}" for k, v in versions.items()))
    # What importing torch, transformers and peft alone keeps resident: part of every peak below.
    baseline = status_mib("VmRSS")
    rows = []
    for spec in workloads["models"]:
        rows.extend(bench_model(spec, seed))
    result = {"runtime": "pytorch", "versions": versions, "threads": threads, "baseline_rss_mib": baseline, "rows": rows}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    log(f"wrote {args.out}")


if __name__ == "__main__":
    main()
