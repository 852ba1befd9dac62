"""`gencli lm compress` and `gencli lm decompress`: files in the manner of gzip, coded by the language model."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer

from gencli.cli import console
from gencli.cli.options import CkptReadOpt, JsonOpt
from gencli.core.errors import GencliError, WriteFailed
from gencli.core.lazy import lazy_module
from gencli.core.paths import LM_CHECKPOINT

codec = lazy_module("gencli.lm.compression.codec")
store = lazy_module("gencli.lm.model.store")
atomic = lazy_module("gencli.core.atomic")

SUFFIX = ".gcz"

TextArg = Annotated[Path, typer.Argument(metavar="INPUT", help="The UTF-8 text file to compress.", show_default=False)]
ArchiveArg = Annotated[Path, typer.Argument(metavar="INPUT", help="The .gcz file to decompress.", show_default=False)]
OutputOpt = Annotated[Path | None, typer.Option("-o", "--output", help="The file to write (default: see above).")]
ForceOpt = Annotated[bool, typer.Option("--force", "-f", help="Replace OUTPUT if it exists.")]


def read_input(path: Path) -> bytes:
    if not path.is_file():
        raise GencliError(f"{path}: " + ("is a directory, not a file" if path.is_dir() else "no such file"))
    try:
        return path.read_bytes()
    except OSError as e:
        raise GencliError(f"{path}: cannot read ({e.strerror})") from None


def check_output(src: Path, dst: Path, force: bool) -> None:
    """Refuse to overwrite (without --force), or to write over the input itself."""
    if dst.exists() and src.resolve() == dst.resolve():
        raise GencliError(f"{dst}: the output would replace the input")
    if dst.exists() and not force:
        raise GencliError(f"{dst} exists; use --force to replace it")
    if dst.is_dir():
        raise GencliError(f"{dst} is a directory")


def write_output(dst: Path, data: bytes) -> None:
    try:
        atomic.write_bytes_atomic(dst, data)
    except OSError as e:
        raise WriteFailed(f"{dst}: cannot write ({e.strerror}); nothing was written") from None


def compress(
    input: TextArg,
    output: OutputOpt = None,
    ckpt: CkptReadOpt = None,
    adapt: Annotated[
        bool,
        typer.Option(
            "--adapt/--no-adapt",
            help="Adapt to the text while coding it (temperature, neural "
            "cache, dynamic evaluation; the checkpoint's adapt section).",
        ),
    ] = True,
    force: ForceOpt = False,
    json_: JsonOpt = False,
) -> None:
    """Compress a UTF-8 text file with the language model (range coding of each next-token distribution).

    The output is INPUT.gcz unless -o is given; decompress it with the same checkpoint.
    The file size is the model's likelihood of the text (the sum of -log2 p over its tokens),
    plus a header of about 17 bytes.

    Example: gencli lm compress notes.txt && gencli lm decompress notes.txt.gcz -o copy.txt
    """
    dst = output or input.with_name(input.name + SUFFIX)
    data = read_input(input)
    check_output(input, dst, force)
    lm = store.load_trained(ckpt or LM_CHECKPOINT)
    start = time.perf_counter()
    with console.progress(1, "compressing") as advance:
        result = codec.compress(lm, data, adapt, str(input), lambda done, total: advance(completed=done / total))
    seconds = time.perf_counter() - start
    write_output(dst, result.archive)
    summary = {
        "input": str(input),
        "output": str(dst),
        "input_bytes": len(data),
        "output_bytes": len(result.archive),
        "bits_per_byte": result.bits_per_byte,
        "model_bits_per_byte": result.model_bits_per_byte,
        "tokens": result.n_tokens,
        "adapt": adapt,
        "seconds": seconds,
    }
    if json_:
        console.emit_json(summary)
    else:
        console.out.print(
            f"{input} -> {dst}: {len(data):,} -> {len(result.archive):,} bytes, {summary['bits_per_byte']:.3f} "
            f"bits per byte (the model's {summary['model_bits_per_byte']:.3f}), "
            f"{'adaptive' if adapt else 'static'}, {seconds:.1f} s",
            markup=False,
        )


def decompress(
    input: ArchiveArg,
    output: OutputOpt = None,
    ckpt: CkptReadOpt = None,
    force: ForceOpt = False,
    json_: JsonOpt = False,
) -> None:
    """Decompress a .gcz file written by `gencli lm compress` with the same checkpoint.

    The output is INPUT without .gcz unless -o is given. Nothing is written unless the
    result matches the original's checksum.

    Example: gencli lm decompress notes.txt.gcz -o copy.txt
    """
    if output is None and input.suffix != SUFFIX:
        raise GencliError(f"{input}: does not end in {SUFFIX}; give the output file with -o")
    dst = output or input.with_suffix("")
    archive = read_input(input)
    check_output(input, dst, force)
    lm = store.load_trained(ckpt or LM_CHECKPOINT)
    start = time.perf_counter()
    with console.progress(1, "decompressing") as advance:
        data = codec.decompress(lm, archive, str(input), lambda done, total: advance(completed=done / total))
    seconds = time.perf_counter() - start
    write_output(dst, data)
    summary = {
        "input": str(input),
        "output": str(dst),
        "archive_bytes": len(archive),
        "text_bytes": len(data),
        "adapt": codec.Header.parse(archive, str(input))[0].adaptive,
        "round_trip": True,
        "seconds": seconds,
    }
    if json_:
        console.emit_json(summary)
    else:
        console.out.print(
            f"{input} -> {dst}: {len(archive):,} -> {len(data):,} bytes, checksum matches, {seconds:.1f} s",
            markup=False,
        )
