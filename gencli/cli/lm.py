"""`gencli lm ...`: train, generate, invert, attention, prob."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated

import numpy as np
import torch
import typer
from safetensors.torch import save_file

from gencli.checkpoint import check_writable_target
from gencli.cli import console
from gencli.cli.checks import out_dir as out_dir_for
from gencli.cli.checks import positive
from gencli.cli.options import (
    CkptReadOpt,
    CkptWriteOpt,
    ConfigOpt,
    DeviceOpt,
    JsonOpt,
    OutDirOpt,
    SeedOpt,
    SetOpt,
)
from gencli.config import require_unchanged, resolve, to_dict, to_yaml
from gencli.csvio import write_csv, write_text
from gencli.device import resolve_device
from gencli.errors import GencliError
from gencli.lm.attention import attention_at_word, continue_to_words
from gencli.lm.config import LMConfig
from gencli.lm.corpus import read_corpus
from gencli.lm.generate import generate as generate_ids
from gencli.lm.invert import invert_text
from gencli.lm.score import score_tokens
from gencli.lm.store import LAST, TrainedLM, load_trained, save_trained
from gencli.lm.tokenizer import TextTokenizer
from gencli.lm.train import LMTrainer, TrainingDiverged, bits_per_byte, split_tokens
from gencli.plots import lm as plots
from gencli.plots.common import loss_curves

app = typer.Typer(
    help="The GPT language model (GPT-2 style decoder written here) trained on a text corpus.\n\n"
    "Example: gencli lm train --corpus alice && gencli lm generate --prompt 'Alice said'",
    no_args_is_help=True,
    rich_markup_mode="markdown",
)

LM_CKPT = Path("checkpoints/lm")
EXERCISE_SENTENCE = "I am a little squirrel holding a walnut"
ATTENTION_PROMPT = "The Queen looked at Alice and said that the little"




def _load(ckpt: Path | None, device: str) -> TrainedLM:
    resolve_device(device)  # validated; analyses of these small models run on the CPU
    return load_trained(ckpt or LM_CKPT)


def _encode_fitting(lm: TrainedLM, text: str, option: str, room: int = 0) -> list[int]:
    if not text:
        raise GencliError(f"{option}: must not be empty")
    ids = lm.tokenizer.encode(text)
    limit = lm.cfg.model.block_size - room
    if len(ids) > limit:
        raise GencliError(f"{option}: {len(ids)} tokens is longer than the block size allows ({limit} tokens)")
    return ids




# ---------------------------------------------------------------- train


@app.command()
def train(
    corpus: Annotated[str | None, typer.Option("--corpus", help="A UTF-8 text file, or `alice` (data.corpus).")] = None,
    config: ConfigOpt = None,
    set_: SetOpt = None,
    ckpt: CkptWriteOpt = None,
    max_iters: Annotated[int | None, typer.Option("--max-iters", help="Training steps (train.max_iters).")] = None,
    seed: SeedOpt = None,
    resume: Annotated[bool, typer.Option("--resume", help="Continue from the checkpoint in --ckpt.")] = False,
    device: DeviceOpt = "auto",
    json_: JsonOpt = False,
) -> None:
    """Train the GPT; keep the best weights by validation loss and the last ones; write the loss figure.

    `alice` resolves to $GENCLI_DATA_DIR/alice_in_wonderland.txt, else the user cache, else a
    one-time download from Project Gutenberg (ebook 11).

    Example: gencli lm train --corpus alice --set model.preset=micro --max-iters 500
    """
    dev = resolve_device(device)
    path = ckpt or LM_CKPT
    explicit = {"data.corpus": corpus, "train.max_iters": positive(max_iters, "--max-iters"), "train.seed": seed}
    if resume:
        trained = load_trained(path, with_last=True)
        cfg = resolve(LMConfig, base=to_dict(trained.cfg), yaml_path=config, sets=set_, explicit=explicit)
        require_unchanged(cfg, trained.cfg, ("model", "tokenizer", "data"), f"when resuming {path}")
        tok = trained.tokenizer
    else:
        cfg = resolve(LMConfig, yaml_path=config, sets=set_, explicit=explicit)
        check_writable_target(path, "lm")
    source, text = read_corpus(cfg.data.corpus)
    if not resume:
        tok = TextTokenizer.train(text, cfg.tokenizer.kind, cfg.tokenizer.vocab_size)
    tokens = torch.tensor(tok.encode(text), dtype=torch.long)
    train_tokens, val_tokens = split_tokens(tokens, cfg.data.val_fraction, cfg.model.block_size, str(source))
    trainer = LMTrainer(cfg, tok.vocab_size, train_tokens, val_tokens, dev)
    if resume:
        trainer.load_state_dict(trained.checkpoint.extra_weights[LAST], trained.checkpoint.weights,
                                trained.checkpoint.load_train_state())
    total = cfg.train.max_iters
    if trainer.step >= total:
        raise GencliError(f"--max-iters {total}: the checkpoint in {path} already has {trainer.step} steps; ask for more")
    val_bytes = len(tok.decode(val_tokens.tolist()).encode("utf-8"))

    def meta() -> dict:
        h = trainer.history
        val = h.eval_val[-1] if h.eval_val else None
        return {"corpus": str(source), "metrics": {
            "train_loss": h.eval_train[-1] if h.eval_train else None, "val_loss": val,
            "best_val_loss": trainer.best_val if h.eval_val else None, "best_step": trainer.best_step,
            "val_bpb": bits_per_byte(val, len(val_tokens), val_bytes) if val is not None else None,
            "best_val_bpb": bits_per_byte(trainer.best_val, len(val_tokens), val_bytes) if h.eval_val else None,
            "tokens_per_s": trainer.tokens_per_s(), "train_s": trainer.train_s,
        }}

    n_layer, n_head, n_embd = cfg.model.sizes()
    console.note(f"{source}: {len(tokens)} tokens (vocabulary {tok.vocab_size}); GPT {n_layer}/{n_head}/{n_embd}, "
                 f"{trainer.model.n_params() / 1e6:.2f}M parameters, {trainer.dtype or torch.float32}, "
                 f"{'explicit' if trainer.explicit else 'fused'} attention, {dev}")
    t0 = time.perf_counter()
    try:
        with console.progress(total, "training lm") as advance:
            advance(completed=trainer.step)
            last_val: list[float] = []

            def on_step(step: int, loss: float, val: float | None) -> None:
                if val is not None:
                    last_val[:] = [val]
                if step % 10 == 0 or val is not None:
                    info = f"loss {loss:.3f}" + (f"  val {last_val[0]:.3f}" if last_val else "")
                    advance(completed=step, info=info)

            trainer.run(total, on_step)
    except KeyboardInterrupt:
        save_trained(trainer, tok, path, {**meta(), "interrupted": True})
        console.note(f"interrupted at step {trainer.step}; resumable state saved to {path} (use --resume)")
        raise typer.Exit(130) from None
    except TrainingDiverged as e:
        console.error(f"training stopped: {e}; the checkpoint in {path} was left as it was")
        raise typer.Exit(1) from None
    wall = time.perf_counter() - t0
    h = trainer.history
    scratch = path.parent / f".{path.name}.figures"
    fig = loss_curves(
        {"train (batch)": (np.asarray(h.steps), np.asarray(h.train)),
         "train (estimate)": (np.asarray(h.eval_steps), np.asarray(h.eval_train)),
         "validation": (np.asarray(h.eval_steps), np.asarray(h.eval_val))},
        scratch / "loss.png", f"GPT {n_layer}/{n_head}/{n_embd} on {Path(str(source)).name}: best validation "
        f"{trainer.best_val:.3f} at step {trainer.best_step}", ylabel="cross-entropy (nats/token)", logy=False,
    )
    val_at = dict(zip(h.eval_steps, h.eval_val))
    train_at = dict(zip(h.eval_steps, h.eval_train))
    metrics = write_csv(scratch / "metrics.csv", ["step", "train_loss", "train_estimate", "val_loss"],
                        [(s, v, train_at.get(s, ""), val_at.get(s, "")) for s, v in zip(h.steps, h.train)])
    m = meta()
    try:
        save_trained(trainer, tok, path, m, files={"loss.png": fig.read_bytes(), "metrics.csv": metrics.read_bytes()})
    finally:
        for f in (fig, metrics):
            f.unlink(missing_ok=True)
        scratch.rmdir()
    result = {**m["metrics"], "wall_s": wall, "steps": trainer.step, "files": {
        "checkpoint": path, "loss_figure": path / "loss.png", "metrics": path / "metrics.csv", "tokenizer": path / "tokenizer.json"}}
    if json_:
        console.emit_json(result)
        return
    mm = m["metrics"]
    console.table(f"lm train ({trainer.step} steps, {wall:.1f} s)",
                  ["train loss", "val loss", "best val (step)", "val bits/byte (best)", "tokens/s"],
                  [(mm["train_loss"], mm["val_loss"], f"{mm['best_val_loss']:.4f} ({mm['best_step']})",
                    f"{mm['val_bpb']:.3f} ({mm['best_val_bpb']:.3f})", mm["tokens_per_s"])])
    console.files_table(result["files"])


# ---------------------------------------------------------------- generate


@app.command()
def generate(
    prompt: Annotated[str, typer.Option("--prompt", help="Text to continue.")] = "Alice",
    max_new_tokens: Annotated[int, typer.Option("--max-new-tokens", help="Tokens to add.")] = 60,
    temperature: Annotated[float, typer.Option("--temperature", help="Softmax temperature (> 0).")] = 1.0,
    top_k: Annotated[int | None, typer.Option("--top-k", help="Sample only among the k most likely tokens.")] = None,
    top_p: Annotated[float | None, typer.Option("--top-p", help="Sample only within the top-p probability mass.")] = None,
    greedy: Annotated[bool, typer.Option("--greedy", help="Always take the most likely token.")] = False,
    num_samples: Annotated[int, typer.Option("--num-samples", help="How many continuations.")] = 1,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the sampling.")] = 0,
    ckpt: CkptReadOpt = None,
    device: DeviceOpt = "auto",
    json_: JsonOpt = False,
) -> None:
    """Continue a prompt (the context is cropped to the block size as text grows).

    Example: gencli lm generate --prompt "Alice said" --max-new-tokens 40 --top-k 50 --num-samples 3
    """
    positive(max_new_tokens, "--max-new-tokens")
    positive(num_samples, "--num-samples")
    positive(top_k, "--top-k")
    if not temperature > 0:
        raise GencliError(f"--temperature: must be > 0, got {temperature}")
    if top_p is not None and not 0 < top_p <= 1:
        raise GencliError(f"--top-p: must be in (0, 1], got {top_p}")
    lm = _load(ckpt, device)
    ids = _encode_fitting(lm, prompt, "--prompt")
    gen = torch.Generator().manual_seed(seed)
    samples = []
    for _ in range(1 if greedy else num_samples):
        out = generate_ids(lm.model, ids, max_new_tokens, temperature, top_k, top_p, greedy, gen)
        samples.append(lm.tokenizer.decode(out))
    if json_:
        console.emit_json({"samples": samples, "prompt": prompt, "files": {}})
        return
    for i, s in enumerate(samples):
        console.out.rule(f"sample {i + 1}" if len(samples) > 1 else "sample")
        console.out.print(s, markup=False)


# ---------------------------------------------------------------- invert


@app.command()
def invert(
    target: Annotated[str, typer.Option("--target", help="The sentence the model should output.")] = EXERCISE_SENTENCE,
    steps: Annotated[int, typer.Option("--steps", help="Adam steps at most.")] = 300,
    lr: Annotated[float, typer.Option("--lr", help="Adam learning rate.")] = 0.1,
    init: Annotated[str, typer.Option("--init", help="random, or tokens (start from the target's own embeddings).")] = "random",
    seed: Annotated[int, typer.Option("--seed", help="Seed of the random start.")] = 0,
    ckpt: CkptReadOpt = None,
    out_dir: OutDirOpt = None,
    device: DeviceOpt = "auto",
    json_: JsonOpt = False,
) -> None:
    """Find input vectors (in place of token embeddings) whose greedy output at every position is the target (L2).

    Example: gencli lm invert --target "I am a little squirrel holding a walnut" --steps 300
    """
    positive(steps, "--steps")
    if init not in ("random", "tokens"):
        raise GencliError(f"--init: must be random or tokens, got {init!r}")
    if not lr > 0:
        raise GencliError(f"--lr: must be > 0, got {lr}")
    lm = _load(ckpt, device)
    ids = _encode_fitting(lm, target, "--target")
    out = out_dir_for(out_dir, "lm", "invert")
    write_text(out / "config.yaml", to_yaml(lm.cfg))
    tok = lm.tokenizer
    shown: list[tuple[int, float, str]] = []
    with console.progress(steps, "inverting") as advance:
        def on_step(step: int, loss: float, pred: list[int]) -> None:
            text = tok.decode(pred)
            if not shown or shown[-1][2] != text:
                shown.append((step, loss, text))
            advance(completed=step, info=f"loss {loss:.3f}  {text[:40]!r}")

        res = invert_text(lm.model, ids, steps, lr, init, seed, on_step)
    save_file({"vectors": res.vectors.contiguous()}, str(out / "vectors.safetensors"))
    files = {
        "vectors": out / "vectors.safetensors",
        "invert_loss_figure": loss_curves({"cross-entropy": (np.arange(1, len(res.losses) + 1), np.asarray(res.losses))},
                                          out / "invert_loss.png", f"inversion of {target!r}", ylabel="loss (nats)"),
        "decoded": write_csv(out / "decoded.csv", ["step", "loss", "decoded"],
                             [(i + 1, res.losses[i], tok.decode(d)) for i, d in enumerate(res.decoded_ids)]),
    }
    nearest = [tok.piece(i) for i in res.nearest_ids]
    result = {"success": res.success, "steps": res.steps, "decoded": tok.decode(res.decoded_ids[-1]),
              "target": target, "final_loss": res.losses[-1], "nearest_tokens": nearest,
              "nearest_text": tok.decode(res.nearest_ids), "nearest_reproduces": res.nearest_reproduces, "files": files}
    if json_:
        console.emit_json(result)
        return
    console.table("decoded text along the way (when it changed)", ["step", "loss", "decoded"], shown)
    console.table(f"inversion: success={res.success} after {res.steps} steps",
                  ["position", "target token", "nearest real token"],
                  [(i, tok.piece(t), n) for i, (t, n) in enumerate(zip(ids, nearest))])
    console.note(f"the nearest tokens alone {'do' if res.nearest_reproduces else 'do not'} reproduce the target")
    console.files_table(files)


# ---------------------------------------------------------------- attention


@app.command()
def attention(
    prompt: Annotated[str, typer.Option("--prompt", help="Start of the sentence; the model writes on to 12 words.")] = ATTENTION_PROMPT,
    word: Annotated[int, typer.Option("--word", help="Take the attention when the model predicts this word (1-based).")] = 12,
    block: Annotated[list[int] | None, typer.Option("--block", help="Extra block index to show (repeatable); first and last always.")] = None,
    greedy: Annotated[bool, typer.Option("--greedy/--sample", help="Greedy or sampled continuation.")] = True,
    seed: Annotated[int, typer.Option("--seed", help="Seed when sampling.")] = 0,
    ckpt: CkptReadOpt = None,
    out_dir: OutDirOpt = None,
    device: DeviceOpt = "auto",
    json_: JsonOpt = False,
) -> None:
    """Attention of the first and last block (mean over heads) at the prediction of the 12th word (L3, L4).

    Example: gencli lm attention --prompt "The Queen looked at Alice and said that the little"
    """
    positive(word, "--word")
    lm = _load(ckpt, device)
    ids = _encode_fitting(lm, prompt, "--prompt")
    n_layer = lm.cfg.model.sizes()[0]
    for b in block or []:
        if not 0 <= b < n_layer:
            raise GencliError(f"--block {b}: out of range, this model has blocks 0..{n_layer - 1}")
    full = continue_to_words(lm.model, lm.tokenizer, ids, word, greedy, torch.Generator().manual_seed(seed))
    try:
        res = attention_at_word(lm.model, lm.tokenizer, full, word)
    except ValueError as e:
        raise GencliError(f"--prompt: the model did not write {word} words within 200 tokens ({e})") from None
    out = out_dir_for(out_dir, "lm", "attention")
    write_text(out / "config.yaml", to_yaml(lm.cfg))
    names = {"first": 0, "last": n_layer - 1, **{f"block{b}": b for b in block or []}}
    mats = {name: res.matrices[i].numpy() for name, i in names.items()}
    rows = {name: m[res.query_index, : res.query_index + 1] for name, m in mats.items()}
    files = {
        "attention_figure": plots.attention(mats, res.tokens, res.query_index, out / "attention.png",
                                            f"predicting word {word} ({res.predicted_word!r}) of: {res.text.strip()[:90]}"),
    }
    payload = {"tokens": res.tokens, "query_index": res.query_index, "text": res.text, "word": word,
               "predicted_word": res.predicted_word,
               "blocks": {k: v.tolist() for k, v in rows.items()},
               "matrices": {k: v.tolist() for k, v in mats.items()}}
    files["attention"] = write_text(out / "attention.json", json.dumps(payload, indent=1))
    result = {k: payload[k] for k in ("tokens", "query_index", "text", "predicted_word", "blocks")}
    result["row_sums"] = {k: float(v.sum()) for k, v in rows.items()}
    result["files"] = files
    if json_:
        console.emit_json(result)
        return
    console.out.print(f"text: {res.text.strip()}", markup=False)
    console.out.print(f"query: token {res.query_index} {res.tokens[res.query_index]!r} predicts {res.predicted_word!r}", markup=False)
    console.table("attention from the query (mean over heads)", ["index", "token", *rows.keys()],
                  [(i, repr(t), *[float(rows[k][i]) for k in rows]) for i, t in enumerate(res.tokens[: res.query_index + 1])])
    console.table("row sums", list(rows.keys()), [[float(v.sum()) for v in rows.values()]])
    console.files_table(files)


# ---------------------------------------------------------------- prob


@app.command()
def prob(
    text: Annotated[str | None, typer.Option("--text", help="The text to score.")] = None,
    context: Annotated[str, typer.Option("--context", help="Text before it (conditions every token, not scored).")] = "",
    sample: Annotated[bool, typer.Option("--sample", help="Score a sentence sampled from the model instead.")] = False,
    max_new_tokens: Annotated[int, typer.Option("--max-new-tokens", help="Length of the --sample sentence.")] = 30,
    seed: Annotated[int, typer.Option("--seed", help="Seed of --sample.")] = 0,
    ckpt: CkptReadOpt = None,
    out_dir: OutDirOpt = None,
    device: DeviceOpt = "auto",
    json_: JsonOpt = False,
) -> None:
    """Log-probability of a text: the sum of per-token log-probabilities (never a product) (L5).

    Without --context the first token has nothing to be predicted from and is not scored;
    texts longer than the block are scored with a sliding window.

    Example: gencli lm prob --text "Alice was not a bit hurt" --context "Down she came."
    """
    if (text is None) == (not sample):
        raise GencliError("give exactly one of --text TEXT or --sample")
    positive(max_new_tokens, "--max-new-tokens")
    lm = _load(ckpt, device)
    tok = lm.tokenizer
    ctx_ids = tok.encode(context) if context else []
    if sample:
        seed_ids = ctx_ids or tok.encode("Alice")
        out_ids = generate_ids(lm.model, seed_ids, max_new_tokens, generator=torch.Generator().manual_seed(seed))
        text_ids = out_ids[len(ctx_ids):] if ctx_ids else out_ids
        text = tok.decode(text_ids)
    else:
        if not text:
            raise GencliError("--text: must not be empty")
        text_ids = tok.encode(text)
    scores = score_tokens(lm.model, ctx_ids + text_ids, n_context=len(ctx_ids))
    if not scores:
        raise GencliError("--text: a single token with no --context has nothing to score")
    total = float(sum(s.logprob for s in scores))
    out = out_dir_for(out_dir, "lm", "prob")
    write_text(out / "config.yaml", to_yaml(lm.cfg))
    rows = [{"token": tok.piece(s.token_id), "logprob": s.logprob, "prob": s.prob, "rank": s.rank} for s in scores]
    files = {
        "prob": write_csv(out / "token_logprobs.csv", ["position", "token", "logprob", "prob", "rank"],
                          [(s.position - len(ctx_ids), r["token"], r["logprob"], r["prob"], r["rank"]) for s, r in zip(scores, rows)]),
        "prob_figure": plots.token_logprobs([r["token"] for r in rows], [r["logprob"] for r in rows], out / "token_logprobs.png",
                                            f"log p = {total:.2f} nats over {len(rows)} tokens"),
    }
    result = {"text": text, "tokens": rows, "total_logprob": total, "n_scored": len(rows),
              "first_token_scored": bool(ctx_ids), "files": files}
    if json_:
        console.emit_json(result)
        return
    first = "" if ctx_ids else f" (first token {tok.piece(text_ids[0])!r} given, not scored)"
    console.table(f"per-token log-probabilities{first}", ["#", "token", "prob", "log-prob", "rank"],
                  [(i + 1, repr(r["token"]), r["prob"], r["logprob"], r["rank"]) for i, r in enumerate(rows)])
    console.out.print(f"total log-probability: {total:.4f} nats ({total / np.log(2):.4f} bits) over {len(rows)} tokens", markup=False)
    console.files_table(files)
