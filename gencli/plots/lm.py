"""Figures of the language-model half: attention heatmaps, painted tokens, per-token log-probs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.colors import PowerNorm

from gencli.lm.results import (
    AttentionMaps,
    CompressionComparison,
    LMTrainingSummary,
    TextInversion,
    TextScore,
    TokenLogProbs,
    TokenPrompt,
)
from gencli.lm.results.compression import grouped_weights
from gencli.plots.common import excerpt, loss_curves, plt, save, wrap
from gencli.plots.figures import draw


def _label(t: str) -> str:
    """A token as drawn: spaces as '·', line breaks and tabs as escapes, so every token is visible."""
    shown = t.replace(" ", "·").replace("\n", "\\n").replace("\t", "\\t").replace("\r", "\\r")
    return "".join(c if c.isprintable() else f"\\x{ord(c):02x}" for c in shown) or "∅"


def attention(matrices: dict[str, np.ndarray], tokens: list[str], query: int, path: Path, title: str) -> Path:
    """Per block: the head-averaged attention heatmap (top) and the query's row painted on its tokens (bottom)."""
    names = list(matrices)
    fig, axes = plt.subplots(
        2, len(names), figsize=(6.5 * len(names), 10), squeeze=False, gridspec_kw={"height_ratios": [3, 1.1]}
    )
    labels = [_label(t) for t in tokens]
    for j, name in enumerate(names):
        m = matrices[name]
        ax = axes[0, j]
        im = ax.imshow(m, cmap="viridis", norm=PowerNorm(0.5, vmin=0, vmax=1))  # sqrt scale: small weights stay visible
        ax.set_xticks(range(len(labels)), labels, rotation=90, fontsize=7)
        ax.set_yticks(range(len(labels)), labels, fontsize=7)
        ax.axhline(query, color="red", lw=0.8)
        ax.set_title(f"{name} block: softmax(QK^T/sqrt(d)), mean over heads")
        ax.set_xlabel("key token")
        ax.set_ylabel("query token")
        fig.colorbar(im, ax=ax, fraction=0.046, label="attention weight (square-root scale)")
        _paint(
            axes[1, j],
            labels,
            m[query, : query + 1],
            f'{name} block: attention from the query token "{labels[query]}" (shade as the map: square root, 0 to 1)',
        )
    fig.suptitle(wrap(title, 60 * len(names)))
    fig.tight_layout()
    return save(fig, path)


def strip_shade(w: float) -> float:
    """The darkness (0 to 0.85 of the colour map) of a token of weight w: the heatmap's square-root scale on the
    fixed range 0 to 1, the same for every strip and figure, so near-uniform weights stay pale."""
    return 0.85 * float(np.sqrt(np.clip(w, 0.0, 1.0)))


def _paint(ax, labels: list[str], weights: np.ndarray, title: str) -> None:
    """Tokens laid out as text, each on a background whose darkness is its weight (strip_shade).

    Each token's weight is printed under it; a token's cell is as wide as the wider of the
    two (measured with the renderer), so neither tokens nor numbers overlap.
    """
    ax.axis("off")
    ax.set_title(title, fontsize=9)
    cmap = plt.get_cmap("Reds")
    renderer = ax.figure.canvas.get_renderer()
    to_axes = ax.transAxes.inverted()

    def width(artist) -> float:
        box = artist.get_window_extent(renderer)
        return to_axes.transform((box.x1, 0))[0] - to_axes.transform((box.x0, 0))[0]

    x, y = 0.0, 0.88
    for lab, w in zip(labels[: len(weights)], weights):
        word = ax.text(
            x,
            y,
            lab,
            fontsize=9,
            family="monospace",
            transform=ax.transAxes,
            va="center",
            bbox={"facecolor": cmap(strip_shade(w)), "edgecolor": "none", "pad": 1.5},
        )
        num = ax.text(x, y - 0.12, f"{w:.2f}", fontsize=6.5, transform=ax.transAxes, va="center", color="0.25")
        cell = max(width(word), width(num)) + 0.012
        if x > 0 and x + cell > 1.0:  # wrap: move both to the start of the next line
            x, y = 0.0, y - 0.3
            word.set_position((x, y))
            num.set_position((x, y - 0.12))
        x += cell


def token_logprobs(tokens: list[str], logprobs: list[float], path: Path, title: str) -> Path:
    """A horizontal bar per scored token, top to bottom in text order: its log-probability (nats); each token is
    written at a readable size beside its bar."""
    n = len(tokens)
    fig, ax = plt.subplots(figsize=(7.5, max(3.0, 0.28 * n + 1.2)))
    pos = np.arange(n)
    ax.barh(pos, logprobs, color="tab:blue")
    ax.set_yticks(pos, [f"{i + 1}  {_label(t)}" for i, t in enumerate(tokens)], fontsize=9, family="monospace")
    ax.invert_yaxis()
    for y, v in zip(pos, logprobs):  # the value at the bar's tip, inside the bar when it is long enough
        inside = v < -0.6
        ax.text(
            v,
            y,
            f" {v:.2f} ",
            va="center",
            ha="left" if inside else "right",
            fontsize=7,
            color="white" if inside else "k",
        )
    ax.set_xlabel("log p(token | the tokens before it), nats")
    ax.set_ylabel("token (in text order)")
    ax.set_title(wrap(title, 80), fontsize=10)
    ax.grid(alpha=0.3, axis="x")
    fig.tight_layout()
    return save(fig, path)


@draw.register
def _(r: LMTrainingSummary, folder: Path) -> dict[str, Path]:
    m = r.metrics
    best = m.get("best_val_loss")
    title = f"{r.model} on {r.corpus}: train and validation loss"
    if best is not None:
        title += f"; best validation {best:.3f} at step {m.get('best_step')}"
    marks = {"best validation": (m.get("best_step"), best)} if best is not None else None
    return {
        r.FIGURE: loss_curves(
            {
                "train (batch)": (r.steps, r.train),
                "train (estimate)": (r.eval_steps, r.eval_train),
                "validation": (r.eval_steps, r.eval_val),
            },
            folder / "loss.png",
            title,
            ylabel="cross-entropy (nats/token)",
            logy=False,
            marks=marks,
        )
    }


@draw.register
def _(r: TextInversion, folder: Path) -> dict[str, Path]:
    verdict = f"reached after {r.steps} steps" if r.success else f"not reached in {r.steps} steps"
    name = "margin loss (+ 0.1 cross-entropy)" if r.loss == "margin" else "cross-entropy over all positions"
    return {
        r.FIGURE: loss_curves(
            {name: (np.arange(1, len(r.losses) + 1), r.losses)},
            folder / "invert_loss.png",
            f"inversion of {r.target!r}: {verdict}",
            ylabel="loss (nats)",
            xlabel="Adam step",
            logy=False,
            from_zero=True,
            integer_x=True,
        )
    }


@draw.register
def _(r: TokenPrompt, folder: Path) -> dict[str, Path]:
    verdict = f"found after {r.steps} steps" if r.success else f"not found in {r.steps} steps"
    return {
        r.FIGURE: loss_curves(
            {"best prompt's margin loss": (np.arange(1, len(r.losses) + 1), r.losses)},
            folder / "prompt_search.png",
            f"a real-token prompt for {r.target!r}: {verdict}",
            ylabel="loss (nats)",
            xlabel="search step",
            logy=False,
            from_zero=True,
            integer_x=True,
        )
    }


@draw.register
def _(r: AttentionMaps, folder: Path) -> dict[str, Path]:
    title = f"predicting word {r.word} ({r.predicted_word!r}) of: {excerpt(r.text, 100)}"
    files = {r.FIGURE: attention(r.matrices, r.tokens, r.query_index, folder / "attention.png", title)}
    if "last" in r.matrices and len(r.matrices) > 1:
        files[r.LAST_FIGURE] = attention(
            {"last": r.matrices["last"]}, r.tokens, r.query_index, folder / "attention_last.png", title
        )
    return files


@draw.register
def _(r: TokenLogProbs, folder: Path) -> dict[str, Path]:
    return {
        r.FIGURE: token_logprobs(
            r.tokens,
            r.logprobs,
            folder / "token_logprobs.png",
            f"log p = {r.total:.2f} nats, the sum over {len(r.tokens)} tokens of: {excerpt(r.text, 80)}",
        )
    }


@draw.register
def _(r: TextScore, folder: Path) -> dict[str, Path]:
    bits = -r.logprobs / np.log(2)
    fig, ax = plt.subplots(figsize=(9, 3.8))
    pos = np.arange(len(bits)) + (0 if r.adaptive else 1)
    ax.plot(pos, bits, lw=0.4, color="0.7", label="bits of each token")
    window = max(1, min(200, len(bits) // 20))
    if window > 1:
        smooth = np.convolve(bits, np.ones(window) / window, mode="valid")
        ax.plot(pos[window - 1 :], smooth, color="tab:blue", lw=1.2, label=f"moving average ({window} tokens)")
    ax.set_xlabel("token position in the text")
    ax.set_ylabel("-log2 p(token | text before it)")
    how = f"adaptive, segments of {r.stride}" if r.adaptive else f"stride {r.stride}"
    ax.set_title(
        wrap(
            f"{Path(r.source).name}: {r.bits_per_byte:.3f} bits per byte over {r.n_bytes:,} bytes "
            f"(window {r.block}, {how})",
            100,
        ),
        fontsize=10,
    )
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return {r.FIGURE: save(fig, folder / "file_logprobs.png")}


@draw.register
def _(r: CompressionComparison, folder: Path) -> dict[str, Path]:
    texts = r.texts()
    fig, axes = plt.subplots(1, len(texts), figsize=(5.2 * len(texts), 3.6), squeeze=False)
    top = max(row.bits_per_byte for row in r.rows) * 1.22
    for ax, text in zip(axes[0], texts):
        rows = sorted((row for row in r.rows if row.text == text), key=lambda row: -row.bits_per_byte)
        colors = [
            "tab:blue" if row.coder.endswith("adaptive") else "lightsteelblue" if row.is_gencli else "0.65"
            for row in rows
        ]
        ax.barh(range(len(rows)), [row.bits_per_byte for row in rows], color=colors)
        for i, row in enumerate(rows):
            ax.text(row.bits_per_byte + top * 0.01, i, f"{row.bits_per_byte:.3f}", va="center", fontsize=8)
        ax.set_yticks(range(len(rows)), [row.coder for row in rows], fontsize=9)
        ax.set_xlim(0, top)
        ax.set_xlabel("bits per byte of the coded file (lower is better)")
        ax.set_title(wrap(f"{text} ({rows[0].input_bytes:,} bytes)", 48), fontsize=10)
        ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    out = {r.FIGURE: save(fig, folder / "compression.png")}
    mixed = r.mixed()
    if mixed:
        out[r.MIXER_FIGURE] = _mixer_weights(mixed, folder / "mixer_weights.png")
    return out


def _mixer_weights(rows: list, path: Path) -> Path:
    """The bit mixer's weight on each group of inputs over each text, in the order coded (moving averages)."""
    fig, axes = plt.subplots(1, len(rows), figsize=(5.2 * len(rows), 3.6), squeeze=False)
    colors = ["tab:blue", "tab:orange", "tab:red", "tab:green", "tab:purple"]
    for ax, row in zip(axes[0], rows):
        groups = grouped_weights(row.mixer_inputs, row.mixer_weights)
        window = max(1, min(200, len(row.mixer_weights) // 20))
        for (name, series), color in zip(groups.items(), colors):
            smooth = np.convolve(series, np.ones(window) / window, mode="valid") if window > 1 else series
            ax.plot(np.arange(len(smooth)) + window, smooth, color=color, lw=1.3, label=name)
        ax.axhline(0, color="0.6", lw=0.6)
        ax.set_xlabel("tokens coded (every stream's, in the coder's order)")
        ax.set_ylabel(f"summed weight ({window}-token mean)")
        ax.set_title(wrap(f"{row.text}: the bit mixer's weights", 48), fontsize=10)
        ax.grid(alpha=0.3)
    handles, labels = axes[0][0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=len(labels), fontsize=8, frameon=False)
    fig.tight_layout(rect=(0, 0.08, 1, 1))
    return save(fig, path)
