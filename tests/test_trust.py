"""A tool a scripter can trust (issue 26): no silent loss of a checkpoint or a run, outputs where and as the user
says, conventions of Unix tools. The findings' side of the issue lives in test_findings.py."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import TINY_DIFFUSION
from tests.test_cli_lm import TINY, lm_ckpt  # noqa: F401  (the module's tiny language model)
from tests.test_lm_core import CORPUS

ROOT = Path(__file__).resolve().parents[1]
GENCLI = [sys.executable, "-m", "gencli"]


def run_gencli(*args, cwd: Path, stdin: bytes | None = None, env: dict | None = None, shell_tail: str = ""):
    """gencli in a real process (real pipes, real exit codes); `shell_tail` pipes its stdout on, under pipefail."""
    env = {**os.environ, "OMP_NUM_THREADS": "1", **(env or {})}
    if shell_tail:
        cmd = " ".join(map(str, [*GENCLI, *args])) + " | " + shell_tail
        return subprocess.run(
            ["bash", "-o", "pipefail", "-c", cmd], cwd=cwd, input=stdin, capture_output=True, env=env, timeout=300
        )
    return subprocess.run([*GENCLI, *map(str, args)], cwd=cwd, input=stdin, capture_output=True, env=env, timeout=300)


# 1. training into a trained checkpoint


def test_training_refuses_a_trained_checkpoint_without_resume_or_force(cli, tmp_path):
    ck = tmp_path / "ck"
    assert cli("diffusion", "train", "--ckpt", ck, *TINY_DIFFUSION).exit_code == 0
    weights = (ck / "model.safetensors").read_bytes()
    r = cli("diffusion", "train", "--ckpt", ck, *TINY_DIFFUSION[:-2], "--set", "train.epochs=5")
    assert r.exit_code == 2 and "--resume" in r.stderr and "--force" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1
    assert (ck / "model.safetensors").read_bytes() == weights  # untouched
    r = cli("diffusion", "train", "--ckpt", ck, *TINY_DIFFUSION[:-2], "--set", "train.epochs=5", "--force", "--json")
    assert r.exit_code == 0 and r.json()["epochs"] == 5


def test_lm_training_refuses_a_trained_checkpoint_too(cli, tmp_path):
    (tmp_path / "c.txt").write_text(CORPUS)
    args = ["lm", "train", "--corpus", tmp_path / "c.txt", "--ckpt", tmp_path / "lm", *TINY]
    assert cli(*args, "--max-iters", "3").exit_code == 0
    r = cli(*args, "--max-iters", "3")
    assert r.exit_code == 2 and "--resume" in r.stderr and "--force" in r.stderr


# 2. --conditional on a missing or an unconditional checkpoint


def test_the_missing_checkpoint_hint_trains_the_model_that_was_asked_for(cli, tmp_path, diffusion_ckpts):
    r = cli("diffusion", "sample", "--conditional", "--ckpt", tmp_path / "none", "-n", "10")
    assert r.exit_code == 2 and "gencli diffusion train --conditional" in r.stderr
    r = cli("diffusion", "sample", "--conditional", "--ckpt", diffusion_ckpts["uncond"], "-n", "10")
    assert r.exit_code == 2 and "unconditional" in r.stderr and len(r.stderr.strip().splitlines()) == 1


# 3. outputs of runs side by side never meet


def test_default_output_folders_are_fresh_per_run_and_a_named_one_keeps_foreign_files(cli, diffusion_ckpts, tmp_path):
    ck = diffusion_ckpts["uncond"]
    a = cli("diffusion", "sample", "--ckpt", ck, "-n", "50", "--json").json()["files"]["samples"]
    b = cli("diffusion", "sample", "--ckpt", ck, "-n", "50", "--seed", "1", "--json").json()["files"]["samples"]
    assert Path(a).parent != Path(b).parent and Path(a).is_file() and Path(b).is_file()
    out = tmp_path / "mine"
    out.mkdir()
    (out / "samples.csv").write_text("my own notes\n")
    r = cli("diffusion", "sample", "--ckpt", ck, "-n", "50", "--out-dir", out)
    assert r.exit_code == 2 and "--force" in r.stderr
    assert (out / "samples.csv").read_text() == "my own notes\n" and not (out / "samples.png").exists()
    assert cli("diffusion", "sample", "--ckpt", ck, "-n", "50", "--out-dir", out, "--force").exit_code == 0
    assert (out / "samples.csv").read_text().startswith("x,y")
    # a file gencli wrote itself is replaced without --force
    assert cli("diffusion", "sample", "--ckpt", ck, "-n", "60", "--out-dir", out).exit_code == 0
    assert len((out / "samples.csv").read_text().splitlines()) == 61


def test_four_commands_under_make_j4_give_four_complete_outputs(lm_ckpt, diffusion_ckpts, tmp_path):  # noqa: F811
    """Two samplings, a generation and a compression side by side, each with its default output place."""
    ck, lm = diffusion_ckpts["uncond"], lm_ckpt / "ck"
    (tmp_path / "text.txt").write_text(CORPUS[:300])
    g = " ".join(GENCLI)
    (tmp_path / "Makefile").write_text(
        textwrap.dedent(f"""\
        all: s1 s2 gen zip
        s1:
        \t{g} diffusion sample --ckpt {ck} -n 200 --seed 1 --json > s1.json
        s2:
        \t{g} diffusion sample --ckpt {ck} -n 300 --seed 2 --json > s2.json
        gen:
        \t{g} lm generate --ckpt {lm} --prompt Alice --max-new-tokens 20 > gen.txt
        zip:
        \t{g} lm compress text.txt --ckpt {lm} --no-adapt
        """)
    )
    r = subprocess.run(
        ["make", "-j4"], cwd=tmp_path, capture_output=True, env={**os.environ, "OMP_NUM_THREADS": "1"}, timeout=600
    )
    assert r.returncode == 0, r.stderr.decode()
    s1, s2 = (json.loads((tmp_path / f"{n}.json").read_text()) for n in ("s1", "s2"))
    f1, f2 = (tmp_path / s["files"]["samples"] for s in (s1, s2))
    assert f1.parent != f2.parent
    assert len(f1.read_text().splitlines()) == 201 and len(f2.read_text().splitlines()) == 301
    assert (tmp_path / "gen.txt").read_text().startswith("Alice")
    assert (tmp_path / "text.txt.gcz").stat().st_size > 0


# 4. a checkpoint another process writes


def test_a_reader_says_a_checkpoint_is_being_written_and_by_whom(cli, tmp_path):
    ck = tmp_path / "ck"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from gencli.checkpoint.lock import lock_for_writing; "
            f"lock_for_writing({str(ck)!r}); print('held', flush=True); time.sleep(60)",
        ],
        stdout=subprocess.PIPE,
        cwd=ROOT,
    )
    try:
        assert holder.stdout.readline().strip() == b"held"
        r = cli("diffusion", "sample", "--ckpt", ck, "-n", "10")
        assert r.exit_code == 2 and "being written" in r.stderr and f"pid {holder.pid}" in r.stderr
        assert "train one first" not in r.stderr
    finally:
        holder.kill()
        holder.wait()


# 5. config show's YAML goes back into --config


def test_config_show_yaml_is_accepted_back_by_a_reader_of_a_non_default_checkpoint(cli, diffusion_ckpts, tmp_path):
    r = cli("config", "show", "diffusion")
    assert r.exit_code == 0
    (tmp_path / "d.yaml").write_text(r.stdout)
    r = cli("diffusion", "sample", "--ckpt", diffusion_ckpts["uncond"], "--config", tmp_path / "d.yaml", "-n", "20")
    assert r.exit_code == 0, r.stderr
    bad = r.stdout + r.stderr
    assert "cannot change the train settings" not in bad


# 9. markup and empty input


def test_bracketed_text_in_a_finding_is_printed_not_taken_as_markup(capsys):
    from gencli.cli import console
    from gencli.core.results import Result, Table

    class Finding(Result):
        def to_dict(self):
            return {}

        def tables(self):
            return [Table("E[x_0 | z] by [bold]step[/bold]", [("a", ".1f")], [(1.0,)])]

        def finding(self):
            return "the mean E[x_0 | z] stays [red]put[/red]"

    console.show([Finding()], {}, False)
    out = capsys.readouterr().out
    assert "E[x_0 | z]" in out and "[red]put[/red]" in out and "[bold]step[/bold]" in out


def test_compressing_an_empty_file_reports_no_rate(cli, lm_ckpt, tmp_path):  # noqa: F811
    (tmp_path / "empty.txt").write_text("")
    r = cli("lm", "compress", tmp_path / "empty.txt", "--ckpt", lm_ckpt / "ck", "--no-adapt", "--json")
    assert r.exit_code == 0
    assert r.json()["bits_per_byte"] is None
    r = cli("lm", "decompress", tmp_path / "empty.txt.gcz", "--ckpt", lm_ckpt / "ck", "-o", tmp_path / "back.txt")
    assert r.exit_code == 0 and (tmp_path / "back.txt").read_bytes() == b""


# 10. figures a reader can read


def test_the_steps_sweep_gives_an_overshooting_panel_its_own_scale():
    from gencli.diffusion.datasets import builtin
    from gencli.diffusion.results.sweeps import SamplingSweep, SweepRow
    from gencli.plots.diffusion_samples import sweep_limits

    rng = np.random.default_rng(0)
    rows = [
        SweepRow("euler", "uniform", t, None, 0.0, rng.normal(0, scale, (500, 2)))
        for t, scale in ((1, 7.0), (5, 1.0), (50, 1.2))
    ]
    sweep = SamplingSweep.__new__(SamplingSweep)
    sweep.rows, sweep.view = rows, builtin("square").data_view()
    limits, own = sweep_limits(sweep)
    assert own == [True, False, False]
    assert limits[1] == limits[2] and (limits[0][1] - limits[0][0]) > 3 * (limits[1][1] - limits[1][0])


def test_attention_strips_share_one_fixed_scale():
    from gencli.plots.lm import strip_shade

    uniform = 1 / 11
    assert strip_shade(uniform) < strip_shade(1.0) / 3  # near-uniform weights stay pale, whatever the strip
    assert strip_shade(0.5) == strip_shade(0.5) and strip_shade(0.2) < strip_shade(0.5) < strip_shade(1.0)


# 11. tables at 80 columns


def test_tables_keep_whole_headers_at_80_columns(monkeypatch):
    import io

    from gencli.cli import console
    from gencli.core.results import Table

    cols = [("#", "d")] + [(f"reconstruction term {i}", ".3f") for i in range(8)]
    buf = io.StringIO()
    monkeypatch.setattr(console, "out", console.PipeConsole(file=buf, width=80, highlight=False))
    console.print_table(Table("bound by point and term " * 6, cols, [(1, *(float(i) for i in range(8)))]))
    text = buf.getvalue()
    assert all(len(line) <= 80 for line in text.splitlines())
    for name, _ in cols:
        assert name in text  # whole, on one line
    assert "…" not in text and "(continued, 2 of" in text


# 12. lm generate as a scripter uses it


def test_generate_plain_text_when_piped_prompt_from_stdin_cropping_and_stop(lm_ckpt, tmp_path):  # noqa: F811
    ck = lm_ckpt / "ck"
    r = run_gencli("lm", "generate", "--ckpt", ck, "--prompt", "Alice", "--max-new-tokens", "30", cwd=tmp_path)
    assert r.returncode == 0 and r.stdout.decode().startswith("Alice")
    assert "─" not in r.stdout.decode() and "━" not in r.stdout.decode()  # no rich rule in a file
    r = run_gencli(
        "lm", "generate", "--ckpt", ck, "--prompt", "-", "--max-new-tokens", "5", cwd=tmp_path, stdin=b"The Queen"
    )
    assert r.returncode == 0 and r.stdout.decode().startswith("The Queen")
    long_prompt = "Alice was beginning to get very tired of sitting " * 20  # far past the 32-token block
    r = run_gencli("lm", "generate", "--ckpt", ck, "--prompt", long_prompt, "--max-new-tokens", "3", cwd=tmp_path)
    assert r.returncode == 0 and r.stdout.decode().startswith(long_prompt.strip()[:40])
    free = run_gencli("lm", "generate", "--ckpt", ck, "--max-new-tokens", "40", "--greedy", cwd=tmp_path).stdout
    text = free.decode()[len("Alice") :]
    stop = text.strip().split()[0] if text.strip() else "the"
    cut = run_gencli("lm", "generate", "--ckpt", ck, "--max-new-tokens", "40", "--greedy", "--stop", stop, cwd=tmp_path)
    assert cut.returncode == 0 and stop not in cut.stdout.decode()[len("Alice") :]


def test_generate_takes_config_set_and_out_dir(cli, lm_ckpt, tmp_path):  # noqa: F811
    (tmp_path / "g.yaml").write_text("generate:\n  max_new_tokens: 7\n")
    r = cli(
        "lm",
        "generate",
        "--ckpt",
        lm_ckpt / "ck",
        "--config",
        tmp_path / "g.yaml",
        "--set",
        "generate.temperature=0.5",
        "--out-dir",
        tmp_path / "out",
        "--json",
    )
    assert r.exit_code == 0, r.stderr
    d = r.json()
    assert d["max_new_tokens"] == 7 and d["temperature"] == 0.5
    assert (tmp_path / "out" / "config.yaml").is_file()


# 13. compress in gzip's manner


def test_compress_reads_stdin_and_writes_stdout_like_gzip(lm_ckpt, tmp_path):  # noqa: F811
    ck = lm_ckpt / "ck"
    text = CORPUS[:400].encode()
    (tmp_path / "t.txt").write_bytes(text)
    z = run_gencli("lm", "compress", "-", "--ckpt", ck, "--no-adapt", cwd=tmp_path, stdin=text)
    assert z.returncode == 0 and len(z.stdout) > 0 and not (tmp_path / "-").exists()
    c = run_gencli("lm", "compress", "t.txt", "-c", "--ckpt", ck, "--no-adapt", cwd=tmp_path)
    assert c.returncode == 0 and c.stdout == z.stdout and (tmp_path / "t.txt").is_file()
    o = run_gencli("lm", "compress", "t.txt", "-o", "-", "--ckpt", ck, "--no-adapt", cwd=tmp_path)
    assert o.stdout == z.stdout and not (tmp_path / "-").exists()
    back = run_gencli("lm", "decompress", "-", "--ckpt", ck, "-o", "-", cwd=tmp_path, stdin=z.stdout)
    assert back.returncode == 0 and back.stdout == text


# 14. Unix conventions


def test_bare_gencli_shows_help_and_exits_0(cli):
    r = cli()
    assert r.exit_code == 0 and "Usage" in r.stdout and "error" not in r.stderr.lower()


def test_a_closed_pipe_ends_quietly_with_0(diffusion_ckpts, tmp_path):
    r = run_gencli(
        "diffusion", "sample", "--ckpt", diffusion_ckpts["uncond"], "-n", "3000", "-o", "-", cwd=tmp_path,
        shell_tail="head -1",
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert r.stdout.decode().strip() == "x,y" and b"Traceback" not in r.stderr and b"Error" not in r.stderr


@pytest.mark.parametrize(
    "shell,needle", [("zsh", "compdef"), ("bash", "complete "), ("fish", "complete --command gencli")]
)
def test_completion_is_the_named_shells(shell, needle, tmp_path):
    r = run_gencli("--show-completion", shell, cwd=tmp_path)
    assert r.returncode == 0 and needle in r.stdout.decode()


def test_short_flags_and_the_report_out_dir(cli, diffusion_ckpts, tmp_path):
    r = cli("diffusion", "sample", "--ckpt", diffusion_ckpts["uncond"], "-n", "7", "-o", tmp_path / "p.json")
    assert r.exit_code == 0
    assert len(json.loads((tmp_path / "p.json").read_text())) == 7
    r = cli("diffusion", "sample", "--ckpt", diffusion_ckpts["uncond"], "-n", "7", "-o", tmp_path / "p.npy")
    assert np.load(tmp_path / "p.npy").shape == (7, 2)
    r = cli("report", "--help")
    assert "--out-dir" in r.stdout and "--only" in r.stdout
    r = cli("diffusion", "sample", "-h")
    assert r.exit_code == 0 and "Usage" in r.stdout


# 15. Ctrl-C and quiet stages


def _terminal(monkeypatch):
    import io

    from gencli.cli import console

    buf = io.StringIO()
    monkeypatch.setattr(console, "err", console.PipeConsole(stderr=True, file=buf, force_terminal=True, width=80))
    return buf


def test_after_ctrl_c_the_progress_bar_is_erased_not_printed_twice(monkeypatch):
    from gencli.cli import console

    buf = _terminal(monkeypatch)
    with console.progress(100, "training x") as advance:
        advance(completed=100)
    assert buf.getvalue().rstrip("\x1b[?25h").endswith("\n")  # a finished bar stays on screen
    buf = _terminal(monkeypatch)
    with pytest.raises(KeyboardInterrupt), console.progress(100, "training x") as advance:
        advance(completed=30)
        raise KeyboardInterrupt
    assert buf.getvalue().endswith("\x1b[2K")  # the interrupted bar's line is erased; the message says the step


def test_a_stage_without_a_terminal_says_when_it_starts_and_how_far_it_has_come(monkeypatch):
    import io

    from gencli.cli import console

    buf = io.StringIO()
    monkeypatch.setattr(console, "err", console.PipeConsole(stderr=True, file=buf, width=200))
    with console.stages(log_every_s=0.0) as stage:
        advance = stage("training the language model", 200)
        advance(30, "loss 2.1")
        advance(60)
    lines = buf.getvalue().splitlines()
    assert lines[0] == "training the language model ..."
    assert lines[1:] == ["  training the language model: 30/200 (loss 2.1)", "  training the language model: 60/200"]


# 16. documentation that matches the code


def test_every_environment_variable_the_code_reads_is_documented_and_no_other():
    read = set()
    for p in (ROOT / "gencli").rglob("*.py"):
        read |= set(re.findall(r"\"(GENCLI_[A-Z_]+)\"", p.read_text()))
    read -= {"GENCLI_WORKER_REPORT"}  # internal: a launcher tells its workers where to report
    readme = (ROOT / "README.md").read_text()
    documented = set(re.findall(r"`(GENCLI_[A-Z_]+)`", readme))
    assert read <= documented, read - documented
    assert documented <= read, documented - read


def test_the_readme_installs_the_cpu_build_from_its_index():
    readme = (ROOT / "README.md").read_text()
    assert "download.pytorch.org/whl/cpu" in readme
    assert "download.pytorch.org/whl/cpu" in (ROOT / "Makefile").read_text()


def test_train_help_promises_the_class_figure_only_for_the_conditional_model(cli):
    text = " ".join(cli("diffusion", "train", "--help").stdout.split())
    assert "C1" not in text or "conditional" in text[max(0, text.index("C1") - 80) : text.index("C1") + 80]
