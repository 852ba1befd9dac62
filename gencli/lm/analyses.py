"""Every course question about the language model as a function: loaded model and options in, result out.

L1 training_summary, L2 invert_sentence, L3/L4 attention_maps, L5 sequence_logprob, and
generate_text. None of them prints or writes a file; randomness comes from explicit seeds.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from gencli.checkpoint.load import metrics_rows
from gencli.core.errors import GencliError, ParameterError
from gencli.lm.compression.classic import conditional_sizes
from gencli.lm.compression.codec import ArchiveError, compress, decompress
from gencli.lm.data.corpus import read_corpus
from gencli.lm.data.split import split_text
from gencli.lm.data.texts import ATTENTION_PROMPT, EXERCISE_SENTENCE  # noqa: F401  (the analyses' defaults)
from gencli.lm.inference.adaptive import text_log2probs
from gencli.lm.inference.attention import (
    WRITE_LIMIT,
    attention_at_word,
    continue_to_words,
    word_starts,
)
from gencli.lm.inference.generate import generate
from gencli.lm.inference.score import score_stream, score_tokens
from gencli.lm.inversion.prompts import search_prompt
from gencli.lm.inversion.vectors import LOSSES, invert_text
from gencli.lm.model.store import TrainedLM
from gencli.lm.results import (
    ADAPTIVE,
    STATIC,
    AttentionMaps,
    CodedText,
    CompressionComparison,
    Generation,
    LMTrainingSummary,
    TextInversion,
    TextScore,
    TokenLogProbs,
    TokenPrompt,
)


def encode_fitting(lm: TrainedLM, text: str, param: str, room: int = 0) -> list[int]:
    """The token ids of `text`; an error naming the parameter `param` when it is empty or longer than the block allows."""
    if not text:
        raise ParameterError(param, "must not be empty")
    ids = lm.tokenizer.encode(text)
    limit = lm.cfg.model.block_size - room
    if len(ids) > limit:
        raise ParameterError(param, f"{len(ids)} tokens is longer than the block size allows ({limit} tokens)")
    return ids


def fitting_words(lm: TrainedLM, text: str, room: int = 0) -> str:
    """The longest whole-word prefix of `text` whose tokens fit the model's block, less `room` tokens (the text itself
    when it fits)."""
    words = text.split()
    while words and len(lm.tokenizer.encode(" ".join(words))) > lm.cfg.model.block_size - room:
        words.pop()
    return " ".join(words)


def check_sampling(temperature: float, top_p: float | None) -> None:
    """Temperature > 0 and top-p in (0, 1]; an error naming the option otherwise."""
    if not temperature > 0:
        raise ParameterError("temperature", f"must be > 0, got {temperature}")
    if top_p is not None and not 0 < top_p <= 1:
        raise ParameterError("top_p", f"must be in (0, 1], got {top_p}")


def _floats(values: list[str]) -> np.ndarray:
    return np.asarray([float(v) for v in values], dtype=float)


def training_summary(lm: TrainedLM) -> LMTrainingSummary:
    """L1 from a checkpoint: its metrics.csv (train and validation curves) and meta.json metrics."""
    rows = metrics_rows(lm.checkpoint)
    try:
        steps = np.asarray([int(r["step"]) for r in rows])
        train = _floats([r["train_loss"] for r in rows])
        evals = [r for r in rows if r["val_loss"] != ""]
        eval_steps = np.asarray([int(r["step"]) for r in evals])
        eval_train, eval_val = _floats([r["train_estimate"] for r in evals]), _floats([r["val_loss"] for r in evals])
    except (KeyError, ValueError, TypeError):
        raise GencliError(f"{lm.checkpoint.path / 'metrics.csv'}: unreadable training metrics") from None
    n_layer, n_head, n_embd = lm.cfg.model.sizes()
    meta = lm.checkpoint.meta
    corpus = str(meta.get("corpus", lm.cfg.data.corpus)).replace("\\", "/").rsplit("/", 1)[-1]
    return LMTrainingSummary(steps, train, eval_steps, eval_train, eval_val, dict(meta.get("metrics") or {}),
                             f"GPT {n_layer}/{n_head}/{n_embd}", corpus)


def generate_text(
    lm: TrainedLM, prompt: str, max_new_tokens: int = 60, temperature: float = 1.0, top_k: int | None = None,
    top_p: float | None = None, greedy: bool = False, num_samples: int = 1, seed: int = 0,
) -> Generation:
    """Continuations of `prompt` (the context is cropped to the block size as the text grows)."""
    check_sampling(temperature, top_p)
    ids = encode_fitting(lm, prompt, "prompt")
    gen = torch.Generator().manual_seed(seed)
    samples = [lm.tokenizer.decode(generate(lm.model, ids, max_new_tokens, temperature, top_k, top_p, greedy, gen))
               for _ in range(1 if greedy else num_samples)]
    settings = {"max_new_tokens": max_new_tokens, "temperature": temperature, "top_k": top_k, "top_p": top_p,
                "greedy": greedy, "seed": seed}
    return Generation(prompt, samples, settings)


def invert_sentence(
    lm: TrainedLM, target: str = EXERCISE_SENTENCE, steps: int = 300, lr: float = 0.1, init: str = "random", seed: int = 0,
    on_step: Callable[[int, float, str], None] | None = None, restarts: int = 4, loss: str = "margin",
) -> TextInversion:
    """L2: optimise one input vector per target token until the model's greedy output at every position is the target
    (`restarts` random starts at once; the margin loss by default, the exercise's cross-entropy with loss="ce")."""
    if not lr > 0:
        raise ParameterError("lr", f"must be > 0, got {lr}")
    if restarts < 1:
        raise ParameterError("restarts", f"must be >= 1, got {restarts}")
    if loss not in LOSSES:
        raise ParameterError("loss", f"must be one of {', '.join(LOSSES)}, got {loss!r}")
    ids = encode_fitting(lm, target, "target")
    tok = lm.tokenizer
    cb = (lambda step, value, pred: on_step(step, value, tok.decode(pred))) if on_step else None
    res = invert_text(lm.model, ids, steps, lr, init, seed, cb, restarts, loss)
    return TextInversion(target, res.success, res.steps, np.asarray(res.losses), [tok.decode(d) for d in res.decoded_ids],
                         [tok.piece(i) for i in ids], [tok.piece(i) for i in res.nearest_ids], tok.decode(res.nearest_ids),
                         res.nearest_reproduces, res.vectors.cpu().numpy(), loss=loss, restarts=restarts, max_steps=steps,
                         free_run=tok.decode(res.free_run_ids or []), tied=lm.cfg.model.tie_weights)


def _words(text: str) -> list[str]:
    """The lower-case words of a text: runs of letters, digits and inner apostrophes ("--" and quotes split them)."""
    return [w for w in (part.strip("'") for part in re.findall(r"[\w']+", text.lower())) if w]


def copies_two_words(prompt: str, target: str) -> bool:
    """True when two consecutive words of the target appear consecutively in the prompt."""
    pairs = set(zip(_words(target), _words(target)[1:]))
    return any(pair in pairs for pair in zip(_words(prompt), _words(prompt)[1:]))


def sentence_evidence(sentence: str, text: str) -> dict:
    """How much of `sentence` a text shows a model: how often its words occur there in that order (case and
    punctuation ignored), its words that never occur, and its consecutive word pairs that never occur."""
    want, words = _words(sentence), _words(text)
    k = len(want)
    occurrences = sum(words[i:i + k] == want for i in range(len(words) - k + 1)) if k else 0
    vocab, pairs = set(words), set(zip(words, words[1:]))
    return {"occurrences": occurrences, "unseen_words": [w for w in dict.fromkeys(want) if w not in vocab],
            "unseen_pairs": [f"{a} {b}" for a, b in dict.fromkeys(zip(want, want[1:])) if (a, b) not in pairs]}


def real_token_prompt(
    lm: TrainedLM, target: str = EXERCISE_SENTENCE, prompt_len: int = 20, steps: int = 500, topk: int = 64,
    candidates: int = 128, forbid_target_words: bool = False, seed: int = 0,
    on_step: Callable[[int, float, str], None] | None = None, restart_after: int = 200, training_text: str | None = None,
) -> TokenPrompt:
    """L2 with real tokens: GCG search for a prompt of `prompt_len` tokens whose greedy continuation is `target`
    (starting again from a random prompt after `restart_after` steps without progress, when > 0). With the model's
    `training_text`, the result also says how much of the target that text holds (`sentence_evidence`)."""
    for name, v in (("prompt_len", prompt_len), ("topk", topk), ("candidates", candidates)):
        if v < 1:
            raise ParameterError(name, f"must be >= 1, got {v}")
    ids = encode_fitting(lm, target, "target", room=prompt_len)
    tok = lm.tokenizer
    forbidden: set[int] = set()
    if forbid_target_words:
        words = set(_words(target))
        forbidden = {i for i in range(tok.vocab_size) if tok.piece(i).strip().lower() in words}
    cb = (lambda step, value, prompt: on_step(step, value, tok.decode(prompt))) if on_step else None
    res = search_prompt(lm.model, tok, ids, prompt_len, steps, topk, candidates, forbidden, seed, cb, restart_after)
    right = next((i for i, (a, b) in enumerate(zip(res.continuation_ids, ids)) if a != b), len(ids))
    prompt = tok.decode(res.prompt_ids)
    return TokenPrompt(target, res.success, prompt, res.prompt_ids, ids, tok.decode(res.continuation_ids), right, res.steps,
                       res.seconds, np.asarray(res.losses), forbid_target_words, copies_two_words(prompt, target),
                       sentence_evidence(target, training_text) if training_text is not None else None)


def attention_maps(
    lm: TrainedLM, prompt: str = ATTENTION_PROMPT, word: int = 12, extra_blocks: list[int] | None = None,
    greedy: bool = True, seed: int = 0, max_new: int = WRITE_LIMIT,
) -> AttentionMaps:
    """L3/L4: the model writes on to `word` words; the head-averaged attention of the first, last (and extra) blocks
    when it predicts that word.

    Whatever the model writes, a map is made: when greedy decoding does not reach word `word`
    within `max_new` tokens (a small model may write only newlines), a seeded sample tries; when
    that fails too, the maps are taken at the last word the text has, and the result says so.
    """
    ids = encode_fitting(lm, prompt, "prompt")
    n_layer = lm.cfg.model.sizes()[0]
    for b in extra_blocks or []:
        if not 0 <= b < n_layer:
            raise ParameterError("extra_blocks", f"out of range, this model has blocks 0..{n_layer - 1}", b)
    tok = lm.tokenizer
    how = "greedy" if greedy else "sampled"
    full = continue_to_words(lm.model, tok, ids, word, greedy, torch.Generator().manual_seed(seed), max_new)
    if len(word_starts(tok, full)) <= word and greedy:  # another word must start after word `word`: then it is whole
        sampled = continue_to_words(lm.model, tok, ids, word, False, torch.Generator().manual_seed(seed), max_new)
        if len(word_starts(tok, sampled)) > len(word_starts(tok, full)):
            full, how = sampled, "sampled"
    starts = word_starts(tok, full)
    used = word
    if len(starts) <= word:  # not reached: the last whole word (one followed by whitespace) with a token before it
        used = len(starts) if tok.decode(full)[-1:].isspace() else len(starts) - 1
        while used >= 1 and starts[used - 1] < 1:
            used -= 1
        how = "last word"
        if used < 1:
            raise ParameterError("prompt", "needs at least two tokens (a word to predict and one before it)")
    res = attention_at_word(lm.model, tok, full, used)
    names = {"first": 0, "last": n_layer - 1, **{f"block{b}": b for b in extra_blocks or []}}
    return AttentionMaps(res.text, res.tokens, res.query_index, used, res.predicted_word,
                         {name: res.matrices[i].numpy() for name, i in names.items()},
                         requested_word=word, how=how, prompt=prompt, new_tokens=len(full) - len(ids), max_new=max_new,
                         query_word=res.query_word)


def sequence_logprob(
    lm: TrainedLM, text: str | None = None, context: str = "", sample: bool = False, max_new_tokens: int = 30, seed: int = 0,
) -> TokenLogProbs:
    """L5: log p(text | context) as the sum of per-token log-probabilities; with `sample`, of a sampled sentence."""
    if (text is None) == (not sample):
        raise ParameterError(("text", "sample"), "give exactly one")
    tok = lm.tokenizer
    ctx_ids = tok.encode(context) if context else []
    if sample:
        seed_ids = ctx_ids or tok.encode("Alice")
        out_ids = generate(lm.model, seed_ids, max_new_tokens, generator=torch.Generator().manual_seed(seed))
        text_ids = out_ids[len(ctx_ids):] if ctx_ids else out_ids
        text = tok.decode(text_ids)
    else:
        if not text:
            raise ParameterError("text", "must not be empty")
        text_ids = tok.encode(text)
    scores = score_tokens(lm.model, ctx_ids + text_ids, n_context=len(ctx_ids))
    if not scores:
        raise ParameterError("text", "a single token with no context has nothing to score")
    return TokenLogProbs(text, [tok.piece(s.token_id) for s in scores], [s.logprob for s in scores], [s.prob for s in scores],
                         [s.rank for s in scores], None if ctx_ids else tok.piece(text_ids[0]),
                         [s.position - len(ctx_ids) for s in scores])


def file_logprob(lm: TrainedLM, path: str, stride: int | None = None, adapt: bool = False) -> TextScore:
    """log p of a whole UTF-8 file, any length: a sliding window of the block size moved by `stride` tokens
    (default half a block), every token after the first scored once; and its bits per byte. With `adapt`, the
    distributions `lm compress --adapt` codes (gencli.lm.inference.adaptive), the first token included."""
    block = lm.cfg.model.block_size
    stride = stride or max(1, block // 2)
    if not 1 <= stride <= block - 1:
        raise ParameterError("stride", f"must be in 1..{block - 1} (the block size is {block})", stride)
    if not Path(path).is_file():  # a file, never a corpus name: `--file alice` reads ./alice or nothing
        raise ParameterError("path", "no such file", path)
    source, text = read_corpus(str(Path(path).resolve()))
    ids = lm.tokenizer.encode(text)
    if len(ids) < 2:
        raise ParameterError("path", "a single token has nothing to be predicted from", path)
    if adapt:
        segment = lm.cfg.adapt.segment_for(block)
        logprobs = text_log2probs(lm.model, ids, lm.cfg.adapt, True) * math.log(2)
        return TextScore(str(source), len(ids), len(text.encode("utf-8")), segment, block, logprobs, adaptive=True)
    return TextScore(str(source), len(ids), len(text.encode("utf-8")), stride, block, score_stream(lm.model, ids, stride).numpy())


def held_out_text(lm: TrainedLM, download: bool = True) -> tuple[str, str]:
    """(training text, held-out text) of the checkpoint's corpus, split as training split it (fetching the book
    when it is nowhere on this machine, if `download`)."""
    _, text = read_corpus(lm.cfg.data.corpus, download)
    return split_text(text, lm.cfg.data.val_fraction)


def training_text_if_readable(lm: TrainedLM) -> str | None:
    """The checkpoint's training text, or None when its corpus is not on this machine (nothing is downloaded)."""
    try:
        return held_out_text(lm, download=False)[0]
    except GencliError:
        return None


def compression_comparison(lm: TrainedLM, texts: dict[str, str], given: str, given_label: str,
                           round_trip: bool = True) -> CompressionComparison:
    """L6: each text coded by the model (static and adaptive, `lm compress`) and by the classic compressors given
    `given` first (the model's training text); each gencli archive decoded again when `round_trip`."""
    rows = []
    encoded = {name: text.encode("utf-8") for name, text in texts.items()}
    classic = conditional_sizes(encoded, given.encode("utf-8"))
    for name, data in encoded.items():
        for adaptive, coder in ((False, STATIC), (True, ADAPTIVE)):
            start = time.perf_counter()
            c = compress(lm, data, adaptive, name)
            seconds = time.perf_counter() - start
            ok = decode_seconds = None
            if round_trip:
                start = time.perf_counter()
                try:
                    ok = decompress(lm, c.archive, name) == data
                except ArchiveError:
                    ok = False
                decode_seconds = time.perf_counter() - start
            rows.append(CodedText(name, coder, len(data), len(c.archive), c.model_bits_per_byte, ok, seconds,
                                  decode_seconds, c.archive))
        rows += [CodedText(name, coder, len(data), size) for (text, coder), size in classic.items() if text == name]
    return CompressionComparison(rows, given_label)
