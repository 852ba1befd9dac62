"""Likelihood is compression (L6): the model's archives beside classic compressors, with the round trip checked."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np

from gencli.core.results import DataFile, Result, Table


@dataclass
class CodedText:
    """One text coded by one compressor: its size, and whether decoding gave the text back (None: not checked)."""

    text: str
    coder: str
    input_bytes: int
    output_bytes: int
    model_bits_per_byte: float | None = None  # gencli's coders: sum of -log2 p / bytes (the ideal coder's size)
    round_trip: bool | None = None
    seconds: float | None = None  # gencli's coders: compressing
    decode_seconds: float | None = None  # gencli's coders: decompressing (the round trip)
    archive: bytes | None = field(default=None, repr=False)  # gencli's coders: the file itself
    mixer_inputs: list[str] | None = None  # format 3: the bit mixer's inputs
    mixer_weights: np.ndarray | None = field(default=None, repr=False)  # (tokens, inputs), in the order coded

    @property
    def bits_per_byte(self) -> float:
        return 8 * self.output_bytes / max(self.input_bytes, 1)

    @property
    def is_gencli(self) -> bool:
        return self.coder.startswith("gencli")


# the mixer's inputs shown as groups: the network, the short and long byte contexts, the word contexts, the match
WEIGHT_GROUPS = {
    "network": ("network",),
    "byte orders 0-2": ("order 0", "order 1", "order 2"),
    "byte orders 3+": tuple(f"order {k}" for k in range(3, 13)),
    "word contexts": ("word", "two words"),
    "match model": ("match",),
}


def grouped_weights(inputs: list[str], weights: np.ndarray) -> dict[str, np.ndarray]:
    """Group name -> (tokens,) the summed weight of the group's inputs (groups with none of them left out)."""
    out = {}
    for group, names in WEIGHT_GROUPS.items():
        cols = [i for i, name in enumerate(inputs) if name in names]
        if cols:
            out[group] = weights[:, cols].sum(axis=1)
    return out


def weight_trend(series: np.ndarray, tolerance: float = 0.02) -> tuple[float, float, str]:
    """(mean of the first tenth, of the last tenth, "rose"/"fell"/"stayed near" by more than `tolerance`)."""
    tenth = max(1, len(series) // 10)
    first, last = float(series[:tenth].mean()), float(series[-tenth:].mean())
    word = "rose" if last > first + tolerance else "fell" if last < first - tolerance else "stayed near"
    return first, last, word


STATIC, ADAPTIVE = "gencli static", "gencli adaptive"


def _coders(rows: list[CodedText]) -> str:
    """`A (1.900), B (2.000) and C (2.100)`: coders with their bits per byte, best first."""
    named = [f"{r.coder} ({r.bits_per_byte:.3f})" for r in sorted(rows, key=lambda r: r.bits_per_byte)]
    return named[0] if len(named) == 1 else ", ".join(named[:-1]) + " and " + named[-1]


def slug(name: str) -> str:
    """A text's name as a file name: `held-out chapters` -> `held-out-chapters`."""
    return "-".join(name.split())


@dataclass
class CompressionComparison(Result):
    """L6: texts coded by the model (static and adaptive) and by classic compressors, as file sizes."""

    FIGURE: ClassVar[str] = "compression_figure"  # the key of its figure in what `gencli.plots.draw` returns
    MIXER_FIGURE: ClassVar[str] = "mixer_weights_figure"  # the bit mixer's weights over each text (format 3)

    rows: list[CodedText]
    given: str  # what the classic coders were given first (the model learned from it)

    def texts(self) -> list[str]:
        return list(dict.fromkeys(r.text for r in self.rows))

    def row(self, text: str, coder: str) -> CodedText | None:
        return next((r for r in self.rows if r.text == text and r.coder == coder), None)

    def mixed(self) -> list[CodedText]:
        """The gencli rows whose coder mixed the network with byte models (format 3), with the mixer's weights."""
        return [r for r in self.rows if r.mixer_weights is not None and len(r.mixer_weights)]

    def mixer_finding(self) -> str:
        """How the mixer weighed the network against the byte models on each text, from the weights it used."""
        parts = []
        for r in self.mixed():
            groups = grouped_weights(r.mixer_inputs or [], r.mixer_weights)
            net = groups.pop("network", None)
            if net is None:
                continue
            first, last, word = weight_trend(net)
            others = sum(groups.values()) if groups else np.zeros_like(net)
            strongest = max(groups, key=lambda g: float(groups[g].mean()), default=None)
            if word == "stayed near":
                s = f"On the {r.text} the mixer's weight on the network stayed near {float(net.mean()):.2f}"
            else:
                s = (
                    f"On the {r.text} the mixer's weight on the network {word} from {first:.2f} in the first tenth "
                    f"of the tokens coded to {last:.2f} in the last"
                )
            s += f"; the byte models' weights summed to {float(others.mean()):.2f} on average"
            if strongest is not None:
                s += f", the most from the {strongest} ({float(groups[strongest].mean()):.2f})"
            parts.append(s + ".")
        return " ".join(parts)

    def to_dict(self) -> dict:
        return {
            "compression": [
                {
                    "text": r.text,
                    "coder": r.coder,
                    "input_bytes": r.input_bytes,
                    "output_bytes": r.output_bytes,
                    "bits_per_byte": r.bits_per_byte,
                    "model_bits_per_byte": r.model_bits_per_byte,
                    "round_trip": r.round_trip,
                    "seconds": r.seconds,
                    "decode_seconds": r.decode_seconds,
                    **(
                        {"mixer_mean_weights": dict(zip(r.mixer_inputs, r.mixer_weights.mean(axis=0).tolist()))}
                        if r.mixer_inputs and r.mixer_weights is not None and len(r.mixer_weights)
                        else {}
                    ),
                }
                for r in self.rows
            ],
            "given": self.given,
        }

    def tables(self) -> list[Table]:
        def checked(r: CodedText) -> str:
            return "" if r.round_trip is None else ("exact" if r.round_trip else "FAILED")

        return [
            Table(
                f"{text}: bytes and bits per byte of each coder ({self.given})",
                [
                    ("coder", ""),
                    ("bytes in", ",d"),
                    ("bytes out", ",d"),
                    ("bits/byte (file)", ".3f"),
                    ("bits/byte (model)", ".3f"),
                    ("round trip", ""),
                    ("compress s", ".1f"),
                    ("decompress s", ".1f"),
                ],
                [
                    (
                        r.coder,
                        r.input_bytes,
                        r.output_bytes,
                        r.bits_per_byte,
                        r.model_bits_per_byte,
                        checked(r),
                        r.seconds,
                        r.decode_seconds,
                    )
                    for r in sorted((r for r in self.rows if r.text == text), key=lambda r: r.bits_per_byte)
                ],
            )
            for text in self.texts()
        ]

    def data_files(self) -> list[DataFile]:
        return [
            DataFile(
                "compression_sizes",
                "compression.csv",
                ["text", "coder", "input_bytes", "output_bytes", "bits_per_byte", "model_bits_per_byte", "round_trip"],
                [
                    (
                        r.text,
                        r.coder,
                        r.input_bytes,
                        r.output_bytes,
                        r.bits_per_byte,
                        r.model_bits_per_byte,
                        r.round_trip,
                    )
                    for r in self.rows
                ],
            )
        ] + [
            DataFile(
                f"archive {r.text} {r.coder}",
                f"{slug(r.text)}.txt{'.static' if r.coder == STATIC else ''}.gcz",
                content=r.archive,
            )
            for r in self.rows
            if r.archive is not None
        ]

    def finding(self) -> str:
        parts = []
        for text in self.texts():
            rows = [r for r in self.rows if r.text == text]
            classic = [r for r in rows if not r.is_gencli]
            static, adaptive = self.row(text, STATIC), self.row(text, ADAPTIVE)
            best_gencli = min((r for r in rows if r.is_gencli), key=lambda r: r.bits_per_byte, default=None)
            if best_gencli is None:
                continue
            s = f"On the {text}, {best_gencli.coder} takes {best_gencli.bits_per_byte:.3f} bits per byte"
            if classic:
                best = min(classic, key=lambda r: r.bits_per_byte)
                beaten = [r for r in classic if r.bits_per_byte > best_gencli.bits_per_byte]
                if len(beaten) == len(classic):
                    s += (
                        f", fewer than every classic compressor here (the best, {best.coder}: {best.bits_per_byte:.3f})"
                    )
                elif not beaten:
                    s += f", more than every classic compressor here (the best, {best.coder}: {best.bits_per_byte:.3f})"
                else:
                    ahead = [r for r in classic if r.bits_per_byte <= best_gencli.bits_per_byte]
                    s += f", fewer than {_coders(beaten)} but more than {_coders(ahead)}"
            if static and adaptive:
                change = adaptive.output_bytes / static.output_bytes - 1
                s += (
                    f"; adapting to the text {'saves' if change < 0 else 'costs'} {abs(change):.1%} of the static "
                    "model's "
                    f"{static.output_bytes:,} bytes"
                )
            parts.append(s + ".")
        checked = [r for r in self.rows if r.round_trip is not None]
        failed = [r for r in checked if not r.round_trip]
        if failed:
            parts.append(
                "Decoding did NOT give the original bytes back for "
                + ", ".join(f"{r.coder} on the {r.text}" for r in failed)
                + "."
            )
        elif checked:
            parts.append(f"Each of the {len(checked)} gencli archives decoded to the original bytes.")
        mixer = self.mixer_finding()
        return " ".join(parts + ([mixer] if mixer else []))
