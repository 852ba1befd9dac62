"""L1-L6: the language model's sections."""

from __future__ import annotations

from gencli.cli.invocation import command_line
from gencli.core.atomic import write_text_atomic
from gencli.core.errors import GencliError
from gencli.core.results import Table
from gencli.lm import analyses
from gencli.lm.data.unseen import UNSEEN_TEXT
from gencli.lm.results import AttentionMaps, TextInversion, TokenPrompt, prompt_search_rate, slug
from gencli.report.page import Figure, Section
from gencli.report.registry import Context, SectionSpec, section

PROMPT_TOKENS = 20  # L2's real-token prompts (at most half the block)


@section(
    "L1",
    "L1 · Language-model training",
    "How do the train and validation losses evolve, and where is validation best?",
    "lm",
)
def l1(spec: SectionSpec, c: Context) -> Section:
    m = c.models["lm"]
    cfg = m.cfg
    sets = [
        f"model.preset={cfg.model.preset}",
        f"tokenizer.vocab_size={cfg.tokenizer.vocab_size}",
        f"train.eval_every={cfg.train.eval_every}",
    ]
    if cfg.train.precision != "auto":
        sets.append(f"train.precision={cfg.train.precision}")
    summary = analyses.training_summary(m)
    return c.section(
        spec,
        [summary],
        [(summary.FIGURE, "train and validation loss; the star marks the best validation")],
        [
            command_line(
                "lm train", corpus=cfg.data.corpus, ckpt=c.paths["lm"], set_=sets, max_iters=cfg.train.max_iters
            )
        ],
    )


@section(
    "L2",
    "L2 · Inversion: input vectors for a target sentence",
    "Which input vectors, fed in place of the token "
    "embeddings, make the model's greedy prediction at every position spell \"I am a little squirrel holding a "
    'walnut"? And which prompt of real tokens would?',
    "lm",
)
def l2(spec: SectionSpec, c: Context) -> Section:
    lb, m = c.cfg.lm, c.models["lm"]
    cfg = m.cfg
    target = analyses.fitting_words(m, analyses.EXERCISE_SENTENCE)
    cut = (
        ""
        if target == analyses.EXERCISE_SENTENCE
        else (
            f"The exercise sentence is longer than this model's block of {cfg.model.block_size} tokens; "
            f"its first {len(target.split())} words are the target. "
        )
    )
    inv = analyses.invert_sentence(m, target, lb.invert_steps)
    prompt_len = min(PROMPT_TOKENS, cfg.model.block_size // 2)
    training_text = analyses.training_text_if_readable(m)  # None: the searches cannot say what the text holds
    searches = [
        analyses.real_token_prompt(
            m, t, prompt_len, lb.prompt_steps, forbid_target_words=True, training_text=training_text
        )
        for t in (analyses.fitting_words(m, t, room=prompt_len) for t in [target, *lb.prompt_targets])
        if t
    ]
    rate = (
        f" With real tokens instead (a GCG search of {lb.prompt_steps} steps per sentence, no word of the target in "
        f"the prompt), {prompt_search_rate(searches)} " + " ".join(r.finding() for r in searches)
    )
    table = Table(
        "real-token prompts (GCG; no word of the target in the prompt)",
        [
            ("target", ""),
            ("prompt found", ""),
            ("greedy continuation", ""),
            ("success", ""),
            ("steps", "d"),
            ("seconds", ".1f"),
        ],
        [(r.target, r.prompt, r.continuation, r.success, r.steps, r.seconds) for r in searches],
    )
    files = c.files(spec.id, [inv, *searches[:1]], cfg)
    figures = [Figure("the inversion loss per Adam step", files[TextInversion.FIGURE])]
    if searches:
        figures.append(
            Figure(
                "the real-token search for the exercise sentence: best margin loss per step", files[TokenPrompt.FIGURE]
            )
        )
    commands = [command_line("lm invert", ckpt=c.paths["lm"], target=target, steps=lb.invert_steps)]
    commands += [
        command_line(
            "lm invert",
            ckpt=c.paths["lm"],
            tokens=True,
            forbid_target_words=True,
            target=r.target,
            steps=lb.prompt_steps,
            prompt_len=prompt_len,
        )
        for r in searches
    ]
    return Section(
        spec.id,
        spec.title,
        figures,
        inv.tables() + [table],
        cut + inv.finding() + rate,
        commands,
        {**inv.to_dict(), "real_token_prompts": [r.to_dict() for r in searches]},
        question=spec.question,
    )


def _attention(c: Context):
    """L3 and L4's attention maps with their files (written once, under L3) and the command."""
    m = c.models["lm"]
    prompt = analyses.fitting_words(m, analyses.ATTENTION_PROMPT)
    att = analyses.attention_maps(m, prompt)
    return att, c.files("L3", [att], m.cfg), [command_line("lm attention", ckpt=c.paths["lm"], prompt=prompt)]


def _attention_table(att, names: list[str]) -> Table:
    t = att.tables()[0]
    keep = [0, 1] + [2 + list(att.matrices).index(n) for n in names]
    return Table(t.title, [t.columns[i] for i in keep], [tuple(row[i] for i in keep) for row in t.rows])


@section(
    "L3",
    "L3 · Attention of the last block",
    "When the model writes the 12th word of a sentence it continues, where does the last block attend?",
    "lm",
)
def l3(spec: SectionSpec, c: Context) -> Section:
    att, files, commands = c.shared("attention", lambda: _attention(c))
    return Section(
        spec.id,
        spec.title,
        [
            Figure(
                "last block: heatmap (the red line is the query) and the tokens painted by their attention",
                files[AttentionMaps.LAST_FIGURE],
            )
        ],
        [_attention_table(att, ["last"])],
        att.finding(["last"]),
        commands,
        {**att.to_dict(), "blocks": {"last": att.to_dict()["blocks"]["last"]}},
        question=spec.question,
    )


@section("L4", "L4 · First block beside the last", "The same for the first block, beside the last.", "lm")
def l4(spec: SectionSpec, c: Context) -> Section:
    att, files, commands = c.shared("attention", lambda: _attention(c))
    return Section(
        spec.id,
        spec.title,
        [Figure("first and last block side by side, on one colour scale", files[AttentionMaps.FIGURE])],
        att.tables(),
        att.finding(),
        commands,
        att.to_dict(),
        question=spec.question,
    )


@section(
    "L5",
    "L5 · Log-probability of a sampled sentence",
    "What is the log-probability of a sampled sentence, as the sum of per-token log-probabilities?",
    "lm",
)
def l5(spec: SectionSpec, c: Context) -> Section:
    lb, m = c.cfg.lm, c.models["lm"]
    lp = analyses.sequence_logprob(m, sample=True, max_new_tokens=lb.prob_tokens)
    return c.section(
        spec,
        [lp],
        [(lp.FIGURE, "log-probability of each token given the ones before it")],
        [command_line("lm prob", ckpt=c.paths["lm"], sample=True, max_new_tokens=lb.prob_tokens)],
        config=m.cfg,
    )


@section(
    "L6",
    "L6 · Likelihood is compression",
    "How many bytes does the model need to store text it was not trained "
    "on, coding each token with its predicted probability, with and without adapting to the text as it goes, beside "
    "classic compressors? And does the file decode to the same bytes?",
    "lm",
)
def l6(spec: SectionSpec, c: Context) -> Section:
    m, ckpt = c.models["lm"], c.paths["lm"]
    try:
        train, held_out = analyses.held_out_text(m)
        texts, given = {"held-out chapters": held_out, "unseen story": UNSEEN_TEXT}, "given the training text first"
        preface = ""
        limit = c.cfg.lm.compress_bytes
        if limit and len(held_out.encode("utf-8")) > limit:
            texts["held-out chapters"] = analyses.text_start(held_out, limit)
            preface = f"The held-out chapters are cut to their first {limit:,} bytes here (lm.compress_bytes). "
    except GencliError as e:  # the corpus the checkpoint was trained on is gone: the unseen story alone
        train, texts, given = "", {"unseen story": UNSEEN_TEXT}, "given nothing first"
        preface = f"The training corpus could not be read ({e}), so the held-out chapters are left out. "
    folder = c.out / "files" / spec.id.lower()
    paths = {name: write_text_atomic(folder / f"{slug(name)}.txt", text) for name, text in texts.items()}
    result = analyses.compression_comparison(m, texts, train, f"the classic compressors are {given}")
    first, unseen = next(iter(paths.values())), paths["unseen story"]
    commands = [
        command_line("lm compress", first, ckpt=ckpt, adapt=False, output=f"{first}.static.gcz", force=True),
        command_line("lm compress", first, ckpt=ckpt, force=True),
        command_line("lm decompress", f"{first}.gcz", ckpt=ckpt, output=folder / "decoded.txt", force=True),
    ]
    commands += [command_line("lm compress", unseen, ckpt=ckpt, force=True)] if unseen != first else []
    return c.section(
        spec,
        [result],
        [
            (
                result.FIGURE,
                "bits per byte of each coder's file, on "
                + " and on ".join(f"the {t}" for t in texts)
                + " (a story no model here was "
                "trained on)",
            ),
            *(
                [
                    (
                        result.MIXER_FIGURE,
                        "the weight the adaptive coder's bit mixer gave the network and each group of byte models as "
                        "it coded each text (the weights of its two weight sets in use, averaged over a token's bits)",
                    )
                ]
                if result.mixed()
                else []
            ),
        ],
        commands,
        config=m.cfg,
        finding=preface + result.finding(),
    )
