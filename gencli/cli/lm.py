"""`gencli lm ...`: train, generate, invert, attention, prob (compress and decompress live in lm_codec).

Each command parses its options, loads the checkpoint, calls one analysis of
`gencli.lm.analyses`, writes its files with `gencli.core.outputs` and shows the result.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

import typer

from gencli.cli import console, lm_codec
from gencli.cli.options import (
    CkptReadOpt,
    CkptWriteOpt,
    ConfigOpt,
    DeviceOpt,
    FlagsGroup,
    ForceOutOpt,
    ForceTrainOpt,
    JsonOpt,
    OutDirOpt,
    ResumeOpt,
    SeedOpt,
    SetOpt,
    count_opt,
    seed_in_range,
)
from gencli.core.config import ConfigSources
from gencli.core.errors import GencliError
from gencli.core.lazy import lazy_module
from gencli.core.outputs import output_dir, write_figures, write_outputs
from gencli.core.paths import LM_CHECKPOINT, run_dir
from gencli.lm.data.texts import ATTENTION_PROMPT, EXERCISE_SENTENCE

if TYPE_CHECKING:
    from gencli.lm.model.store import TrainedLM
    from gencli.lm.training.distributed import Distributed

# loaded when a command runs, not for --help or completion
analyses = lazy_module("gencli.lm.analyses")
devices = lazy_module("gencli.core.device")
distributed = lazy_module("gencli.lm.training.distributed")
fitting = lazy_module("gencli.lm.training.fit")
launching = lazy_module("gencli.lm.training.launch")
store = lazy_module("gencli.lm.model.store")

app = typer.Typer(
    cls=FlagsGroup,
    help="The GPT language model (GPT-2 style decoder written here) trained on a text corpus.\n\n"
    "Example: gencli lm train --corpus alice && gencli lm generate --prompt 'Alice said'",
    no_args_is_help=True,
    rich_markup_mode="markdown",
)


def load(ckpt: Path | None, device: str) -> TrainedLM:
    """The checkpoint (default checkpoints/lm) on the chosen device."""
    return store.load_trained(ckpt or LM_CHECKPOINT, device=devices.resolve_device(device))


@app.command()
def train(
    corpus: Annotated[str | None, typer.Option("--corpus", help="A UTF-8 text file, or `alice` (data.corpus).")] = None,
    config: ConfigOpt = None,
    set_: SetOpt = None,
    ckpt: CkptWriteOpt = None,
    max_iters: Annotated[int | None, count_opt("--max-iters", "Training steps (train.max_iters).")] = None,
    seed: SeedOpt = None,
    resume: ResumeOpt = False,
    force: ForceTrainOpt = False,
    nproc: Annotated[
        int,
        count_opt(
            "--nproc",
            "Data-parallel processes on this node (launches itself through "
            "torch.distributed.run; train.batch_size stays the global batch).",
        ),
    ] = 1,
    device: DeviceOpt = "auto",
    json_: JsonOpt = False,
) -> None:
    """Train the GPT; keep the best weights by validation loss and the last ones; write the loss figure (L1).

    `alice` resolves to $GENCLI_DATA_DIR/alice_in_wonderland.txt, else the user cache, else a
    one-time download from Project Gutenberg (ebook 11). Data-parallel: --nproc N on one node,
    or torchrun --nproc_per_node=N [--nnodes ...] -m gencli lm train ... (see the README).

    Example: gencli lm train --corpus alice --set model.preset=micro --max-iters 500
    """
    path = ckpt or LM_CHECKPOINT
    sources = ConfigSources(
        config, tuple(set_ or ()), {"data.corpus": corpus, "train.max_iters": max_iters, "train.seed": seed}
    )
    if nproc > 1:
        raise typer.Exit(launching.launch(nproc, path, resume, sources, device, json_, force))
    dist = distributed.Distributed.from_env(devices.resolve_device(device))
    if dist.world > 1:
        launching.interrupt_on_sigterm()
    try:
        _train(dist, path, resume, sources, json_, force)
    finally:
        dist.close()
    if dist.world > 1:
        # a torchrun worker whose job is done leaves without the interpreter's teardown, in which a background thread
        # of the process group sometimes aborts the process ("terminate called without an active exception")
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)


def _train(dist: Distributed, path: Path, resume: bool, sources: ConfigSources, json_: bool, force: bool) -> None:
    """The training of one process (the only one, or one rank of a data-parallel job)."""
    run = fitting.prepare(path, resume, sources, dist.device, dist, force)
    if not dist.is_main:  # only the main process shows progress and writes files
        with console.training_outcome(path, quiet=True):
            fitting.fit(run)
        return
    console.note(run.describe())
    with (
        console.training_outcome(path),
        console.progress(run.trainer.cfg.train.max_iters, "training lm") as advance,
    ):
        advance(completed=run.trainer.step)
        last_val: list[float] = []

        def on_step(step: int, loss: float, val: float | None) -> None:
            last_val[:] = [val] if val is not None else last_val
            if step % 10 == 0 or val is not None:
                advance(completed=step, info=f"loss {loss:.3f}" + (f"  val {last_val[0]:.3f}" if last_val else ""))

        summary = fitting.fit(run, on_step, write_figures)
    files = {
        "checkpoint": path,
        "loss_figure": path / "loss.png",
        "metrics": path / "metrics.csv",
        "tokenizer": path / "tokenizer.json",
    }
    console.show([summary], files, json_)


@app.command()
def generate(
    prompt: Annotated[str, typer.Option("--prompt", "-p", help="Text to continue; - reads it from stdin.")] = "Alice",
    max_new_tokens: Annotated[
        int | None, count_opt("--max-new-tokens", "Tokens to add (generate.max_new_tokens).")
    ] = None,
    temperature: Annotated[float | None, typer.Option("--temperature", help="Softmax temperature (>= 0.001).")] = None,
    top_k: Annotated[int | None, count_opt("--top-k", "Sample only among the k most likely tokens.")] = None,
    top_p: Annotated[
        float | None, typer.Option("--top-p", help="Sample only within the top-p probability mass, in (0, 1].")
    ] = None,
    greedy: Annotated[bool, typer.Option("--greedy", help="Always take the most likely token.")] = False,
    num_samples: Annotated[int, count_opt("--num-samples", "How many continuations.")] = 1,
    stop: Annotated[
        list[str] | None, typer.Option("--stop", help="End a continuation before this text (repeatable).")
    ] = None,
    seed: Annotated[int, typer.Option("--seed", callback=seed_in_range, help="Seed of the sampling.")] = 0,
    raw: Annotated[bool, typer.Option("--raw", help="Print the text alone, as when stdout is not a terminal.")] = False,
    ckpt: CkptReadOpt = None,
    config: ConfigOpt = None,
    set_: SetOpt = None,
    out_dir: OutDirOpt = None,
    force: ForceOutOpt = False,
    device: DeviceOpt = "auto",
    json_: JsonOpt = False,
) -> None:
    """Continue a prompt. A prompt longer than the model's block keeps its last block of tokens as context (the text
    keeps all of it), as the growing text does. Piped into a file (or with --raw) only the text is printed, the
    continuations separated by a blank line; on a terminal each under a rule.

    Example: gencli lm generate --prompt "Alice said" --max-new-tokens 40 --top-k 50 --num-samples 3
    """
    analyses.check_sampling(1.0 if temperature is None else temperature, top_p)  # before loading anything
    text = sys.stdin.read() if prompt == "-" else prompt
    lm = load(ckpt, device)
    explicit = {
        "generate.max_new_tokens": max_new_tokens,
        "generate.temperature": temperature,
        "generate.top_k": top_k,
        "generate.top_p": top_p,
    }
    g = runtime_config(lm, config, set_, explicit).generate
    result = analyses.generate_text(
        lm,
        text,
        g.max_new_tokens,
        g.temperature,
        g.top_k or None,
        g.top_p if g.top_p < 1 else None,
        greedy,
        num_samples,
        seed,
        stop,
    )
    files = write_outputs([result], output_dir(out_dir, run_dir("lm", "generate")), lm.cfg, force) if out_dir else {}
    if json_:
        console.show([result], files, json_)
        return
    if raw or not console.out.is_terminal:
        sys.stdout.write("\n\n".join(result.samples) + "\n")
        return
    for i, s in enumerate(result.samples):
        console.out.rule(f"sample {i + 1}" if len(result.samples) > 1 else "sample")
        console.out.print(s, markup=False)
    if files:
        console.files_table(files)


def runtime_config(lm: TrainedLM, config: Path | None, sets: list[str] | None, explicit: dict):
    """The checkpoint's config with generation settings overridden (a YAML file's other sections are the
    checkpoint's own); the model must not change."""
    from gencli.core.config import merge, read_yaml, require_unchanged, resolve, to_dict
    from gencli.lm.config import LMConfig

    base = to_dict(lm.cfg)
    data = read_yaml(config) if config is not None else {}
    if isinstance(data.get("generate"), dict):
        base = merge(base, {"generate": data["generate"]})
    cfg = resolve(LMConfig, base=base, sets=sets, explicit=explicit)
    require_unchanged(
        cfg,
        lm.cfg,
        ("model", "tokenizer", "data", "train", "adapt"),
        f"of a trained checkpoint ({lm.checkpoint.path}); retrain with `gencli lm train` instead",
    )
    return cfg


# options of `lm invert` (the last six for its real-token search, --tokens)
RestartsOpt = Annotated[
    int, count_opt("--restarts", "Random starts optimised together; the first to reach the target wins.")
]
LossOpt = Annotated[
    Literal["margin", "ce"],
    typer.Option(
        "--loss",
        help="margin: hinge on the gap between the target's logit and the best other one (plus 0.1 x "
        "cross-entropy); ce: the exercise's cross-entropy alone.",
    ),
]
TokensOpt = Annotated[
    bool,
    typer.Option(
        "--tokens",
        help="Search a prompt of real tokens instead (GCG), one whose "
        "greedy continuation is the target: a text you can pass to lm generate.",
    ),
]
PromptLenOpt = Annotated[int, count_opt("--prompt-len", "--tokens: tokens in the prompt.")]
TopkOpt = Annotated[int, count_opt("--topk", "--tokens: swaps tried per position (the top-k of the gradient).")]
CandidatesOpt = Annotated[int, count_opt("--candidates", "--tokens: prompts scored per step.")]
RestartAfterOpt = Annotated[
    int,
    typer.Option(
        "--restart-after",
        min=0,
        help="--tokens: restart from a random prompt after this many steps without progress (0: never); "
        "--steps counts all starts together.",
    ),
]
ForbidOpt = Annotated[
    bool,
    typer.Option(
        "--forbid-target-words", help="--tokens: no token that is a word of the target may appear in the prompt."
    ),
]


@app.command()
def invert(
    target: Annotated[str, typer.Option("--target", help="The sentence the model should output.")] = EXERCISE_SENTENCE,
    steps: Annotated[int, count_opt("--steps", "Adam steps at most (with --tokens: search steps).")] = 300,
    lr: Annotated[float, typer.Option("--lr", help="Adam learning rate (> 0).")] = 0.1,
    init: Annotated[
        Literal["random", "tokens"],
        typer.Option("--init", help="random, or tokens (start from the target's own embeddings)."),
    ] = "random",
    seed: Annotated[int, typer.Option("--seed", callback=seed_in_range, help="Seed of the random start.")] = 0,
    restarts: RestartsOpt = 4,
    loss: LossOpt = "margin",
    tokens: TokensOpt = False,
    prompt_len: PromptLenOpt = 20,
    topk: TopkOpt = 64,
    candidates: CandidatesOpt = 128,
    forbid_target_words: ForbidOpt = False,
    restart_after: RestartAfterOpt = 200,
    ckpt: CkptReadOpt = None,
    out_dir: OutDirOpt = None,
    force: ForceOutOpt = False,
    device: DeviceOpt = "auto",
    json_: JsonOpt = False,
) -> None:
    """Find input vectors (in place of token embeddings) whose greedy output at every position is the target (L2).

    Example: gencli lm invert --target "I am a little squirrel holding a walnut" --steps 300

    The exercise's own setting: --loss ce --restarts 1. With --tokens, a prompt of real tokens whose greedy
    continuation is the target (Greedy Coordinate Gradient search, Zou et al. 2023); --steps then counts search steps,
    and where the checkpoint's corpus is on this machine (nothing is downloaded for it) the result says how often the
    target occurs in its training text and which of its words and word pairs never do (`training_text` in --json).

    Example: gencli lm invert --tokens --target "the Queen was very angry" --forbid-target-words --steps 400
    """
    lm = load(ckpt, device)
    with console.progress(steps, "searching real-token prompts" if tokens else "inverting") as advance:

        def show(step: int, value: float, text: str) -> None:
            advance(completed=step, info=f"loss {value:.3f}  {text[:40]!r}")

        result = (
            analyses.real_token_prompt(
                lm,
                target,
                prompt_len,
                steps,
                topk,
                candidates,
                forbid_target_words,
                seed,
                on_step=show,
                restart_after=restart_after,
                training_text=analyses.training_text_if_readable(lm),
            )
            if tokens
            else analyses.invert_sentence(lm, target, steps, lr, init, seed, on_step=show, restarts=restarts, loss=loss)
        )
    out = output_dir(out_dir, run_dir("lm", "invert-tokens" if tokens else "invert"))
    console.show([result], write_outputs([result], out, lm.cfg, force), json_)


@app.command()
def attention(
    prompt: Annotated[
        str, typer.Option("--prompt", help="Start of the sentence; the model writes on to 12 words.")
    ] = ATTENTION_PROMPT,
    word: Annotated[int, count_opt("--word", "Take the attention when the model predicts this word (1-based).")] = 12,
    block: Annotated[
        list[int] | None, typer.Option("--block", help="Extra block index to show (repeatable); first and last always.")
    ] = None,
    greedy: Annotated[bool, typer.Option("--greedy/--sample", help="Greedy or sampled continuation.")] = True,
    seed: Annotated[int, typer.Option("--seed", callback=seed_in_range, help="Seed when sampling.")] = 0,
    ckpt: CkptReadOpt = None,
    out_dir: OutDirOpt = None,
    force: ForceOutOpt = False,
    device: DeviceOpt = "auto",
    json_: JsonOpt = False,
) -> None:
    """Attention of the first and last block (mean over heads) at the prediction of the 12th word (L3, L4).

    Example: gencli lm attention --prompt "The Queen looked at Alice and said that the little"
    """
    lm = load(ckpt, device)
    result = analyses.attention_maps(lm, prompt, word, block, greedy, seed)
    if not json_:
        console.out.print(f"text: {result.text.strip()}", markup=False)
    out = output_dir(out_dir, run_dir("lm", "attention"))
    console.show([result], write_outputs([result], out, lm.cfg, force), json_)


@app.command()
def prob(
    text: Annotated[str | None, typer.Option("--text", help="The text to score.")] = None,
    file: Annotated[
        Path | None,
        typer.Option(
            "--file",
            help="Score a whole UTF-8 file of any length (sliding window): total log-probability and bits per byte.",
        ),
    ] = None,
    stride: Annotated[
        int | None, count_opt("--stride", "--file: tokens the window moves (default half the block).")
    ] = None,
    adapt: Annotated[
        bool,
        typer.Option(
            "--adapt",
            help="--file: predict it as `lm compress` does, adapting to the text "
            "(neural cache, dynamic evaluation); the first token is scored too (uniform).",
        ),
    ] = False,
    context: Annotated[
        str, typer.Option("--context", help="Text before it (conditions every token, not scored).")
    ] = "",
    sample: Annotated[bool, typer.Option("--sample", help="Score a sentence sampled from the model instead.")] = False,
    max_new_tokens: Annotated[int, count_opt("--max-new-tokens", "Length of the --sample sentence.")] = 30,
    seed: Annotated[int, typer.Option("--seed", callback=seed_in_range, help="Seed of --sample.")] = 0,
    ckpt: CkptReadOpt = None,
    out_dir: OutDirOpt = None,
    force: ForceOutOpt = False,
    device: DeviceOpt = "auto",
    json_: JsonOpt = False,
) -> None:
    """Log-probability of a text: the sum of per-token log-probabilities (never a product) (L5).

    Without --context the first token has nothing to be predicted from and is not scored;
    texts longer than the block are scored with a sliding window. --file scores a whole file
    (compare two checkpoints on text neither saw) in bits per byte; with --adapt, as
    `lm compress` codes it (the same model bits).

    Example: gencli lm prob --text "Alice was not a bit hurt" --context "Down she came."
    """
    if file is not None and (text is not None or sample):
        raise GencliError("give one of --text, --sample or --file")
    if adapt and (file is None or stride is not None):
        raise GencliError("--adapt scores a --file, in the segments of the checkpoint's adapt settings (no --stride)")
    lm = load(ckpt, device)
    if file is not None:
        result = analyses.file_logprob(lm, str(file), stride, adapt)
    else:
        result = analyses.sequence_logprob(lm, text, context, sample, max_new_tokens, seed)
    out = output_dir(out_dir, run_dir("lm", "prob"))
    console.show([result], write_outputs([result], out, lm.cfg, force), json_)


app.command()(lm_codec.compress)
app.command()(lm_codec.decompress)
