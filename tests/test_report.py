"""`gencli report --quick` end to end: the files, every section, commands that reproduce them, a real browser."""

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from gencli.cli.app import app
from tests.test_lm_core import CORPUS

SECTIONS = [
    "departures",
    "U1",
    "U2",
    "U3",
    "U4",
    "U5",
    "U6",
    "C1",
    "C2",
    "C3",
    "C4",
    "C5",
    "C6",
    "C7",
    "bonus",
    "D1",
    "F1",
    "L1",
    "L2",
    "L3",
    "L4",
    "L5",
    "L6",
]


@pytest.fixture(scope="module", params=["bf16", "fp32"])
def quick_report(tmp_path_factory, request):
    """One quick report in a fresh working folder, on a generated corpus, for each forced numeric path of training
    (bf16 autocast runs on any x86 CPU, slowly without the instructions)."""
    root = tmp_path_factory.mktemp("report")
    (root / "corpus.txt").write_text(CORPUS)
    import os

    cwd = os.getcwd()
    os.chdir(root)
    try:
        r = CliRunner().invoke(
            app,
            [
                "report",
                "--quick",
                "--out",
                "rep",
                "--corpus",
                "corpus.txt",
                "--set",
                f"lm.precision={request.param}",
                "--json",
            ],
        )
    finally:
        os.chdir(cwd)
    assert r.exit_code == 0, r.stderr
    return root, json.loads(r.stdout)


@pytest.mark.slow
def test_quick_report_files_sections_and_own_checkpoints(quick_report):
    root, out = quick_report
    rep = root / "rep"
    for name in ("index.html", "report.md", "report.json"):
        assert (rep / name).is_file() and (rep / name).stat().st_size > 0, name
    assert out["sections"] == SECTIONS
    data = json.loads((rep / "report.json").read_text())
    assert list(data["sections"]) == SECTIONS
    for sid, sec in data["sections"].items():
        for fig in sec["figures"]:
            assert (rep / fig).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", (sid, fig)
        if sid not in ("C2", "departures"):
            assert sec["figures"] and sec["commands"] and sec["finding"], sid
            assert all(c.startswith("gencli ") for c in sec["commands"]), sid
    # --quick keeps its checkpoints under the report folder and never touches ./checkpoints
    assert not (root / "checkpoints").exists()
    gallery = set(data["settings"]["report"]["gallery"]["sets"])
    assert gallery, "the gallery of other distributions trains at least one set"
    assert {Path(p).name for p in data["trained"] if Path(p).parent.name not in ("gallery", "flow")} == {
        "diffusion",
        "diffusion-cond",
        "lm",
    }
    flow = data["settings"]["report"]["flow"]
    assert {Path(p).name for p in data["trained"] if Path(p).parent.name == "flow"} == {
        f"{s}-{o}" for s in flow["sets"] for o in flow["objectives"] if o != "vesde"
    }  # the VE-SDE models of "Diffusion or flow?" are the report's own square model and the gallery's
    assert {Path(p).name for p in data["trained"] if Path(p).parent.name == "gallery"} == gallery
    assert all(Path(p).is_relative_to(Path("rep")) for p in data["trained"])


@pytest.mark.slow
def test_report_numbers_are_the_analyses_numbers(quick_report):
    root, _ = quick_report
    data = json.loads((root / "rep" / "report.json").read_text())
    forced = data["settings"]["lm"]["train"]["precision"]
    assert forced in ("bf16", "fp32") and data["sections"]["L1"]["numbers"]["numeric_path"]["path"].startswith(forced)
    u6 = data["sections"]["U6"]["numbers"]
    assert u6["euler"]["identical"] is True and u6["euler"]["max_abs_diff"] == 0.0
    assert u6["sde"]["identical"] is False and u6["sde"]["max_abs_diff"] > 0
    att = data["sections"]["L4"]["numbers"]
    assert set(att["blocks"]) == {"first", "last"}
    assert all(abs(sum(row) - 1) < 1e-4 for row in att["blocks"].values())
    lp = data["sections"]["L5"]["numbers"]
    assert lp["total_logprob"] == pytest.approx(sum(t["logprob"] for t in lp["tokens"]), abs=1e-6)
    c6 = data["sections"]["C6"]["numbers"]["points"]
    places = [(p["x"], p["y"]) for p in c6]
    assert any(places.count(pl) == 2 for pl in places), "one place is scored under two classes"


def _leaves(obj, prefix=""):
    """(dotted path without list indices, value) of every number, string and bool in a JSON object."""
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield from _leaves(v, f"{prefix}{k}.")
    elif isinstance(obj, list):
        for v in obj:
            yield from _leaves(v, prefix)
    else:
        yield prefix[:-1], obj


VARIES = (
    "wall",
    "seconds",
    "tokens_per_s",
    "tflops",  # model FLOP/s and MFU are timings too
    "mfu",
    "train_s",
    "files",
    "checkpoint",
    "versions",
    "numeric_path.how",
)


def test_reproduce_commands_never_share_an_output_folder(quick_report):
    """Two commands of the report (U3's two seeds grids, say) run side by side must not overwrite each other: each
    names its own --out-dir, or none (a fresh folder per run)."""
    import shlex

    root, _ = quick_report
    data = json.loads((root / "rep" / "report.json").read_text())
    outs = []
    for sec in data["sections"].values():
        for command in sec["commands"]:
            args = shlex.split(command)
            if "--out-dir" in args:
                outs.append(args[args.index("--out-dir") + 1])
    assert len(outs) == len(set(outs)), sorted(o for o in outs if outs.count(o) > 1)


@pytest.mark.slow
def test_every_section_command_reproduces_its_numbers(quick_report, cli, tmp_path, monkeypatch):
    """Each "Reproduce with" command, run as printed (training ones into a fresh folder), gives its section's
    numbers."""
    import shlex

    root, _ = quick_report
    monkeypatch.chdir(root)  # the commands name paths relative to where the report ran
    data = json.loads((root / "rep" / "report.json").read_text())
    ran = 0
    for sid, sec in data["sections"].items():
        numbers: dict[str, list] = {}
        for p, v in _leaves(sec["numbers"]):
            if not any(w in p for w in VARIES):
                numbers.setdefault(p, []).append(v)
        for i, command in enumerate(sec["commands"]):
            args = shlex.split(command)[1:]
            if args[1] == "train":
                args[args.index("--ckpt") + 1] = str(tmp_path / f"{sid}-{i}")
            if args[0] == "diffusion" and args[1] == "schedule":
                continue  # a table of the grids, checked in U5's schedule test
            r = cli(*args, "--json")
            assert r.exit_code == 0, (sid, command, r.stderr)
            matched = 0
            for path, value in _leaves(r.json()):
                if any(w in path for w in VARIES):
                    continue
                same = [q for q in numbers if q == path or q.endswith("." + path)]
                if not same:
                    continue
                matched += 1
                pool = [v for q in same for v in numbers[q]]
                if isinstance(value, float):
                    assert any(isinstance(v, float) and v == pytest.approx(value, rel=1e-6, abs=1e-9) for v in pool), (
                        sid,
                        command,
                        path,
                        value,
                        pool[:8],
                    )
                else:
                    assert value in pool, (sid, command, path, value, pool[:8])
            assert matched, (sid, command, "shares no number with its section")
            ran += 1
    assert ran >= 20


@pytest.mark.slow
def test_page_is_self_contained(quick_report):
    root, _ = quick_report
    page = (root / "rep" / "index.html").read_text()
    assert "<script" not in page.lower()
    assert 'src="http' not in page and 'href="http' not in page
    assert page.count('<img src="data:image/png;base64,') >= 17
    for sid in SECTIONS:
        assert f'id="{sid.lower()}"' in page
    md = (root / "rep" / "report.md").read_text()
    assert md.count("](files/") >= 17 and all(f"## {t}" in md for t in ("U1 ", "L5 "))


def _chromium():
    for browser in ("chromium", "chromium-browser"):
        if shutil.which(browser) and shutil.which("chromedriver"):
            return shutil.which(browser)
    return None


@pytest.mark.slow
@pytest.mark.skipif(_chromium() is None, reason="needs Debian's chromium and chromium-driver (.ci/run installs them)")
def test_page_in_a_real_browser(quick_report):
    webdriver = pytest.importorskip("selenium.webdriver", reason="needs selenium (the dev extra)")
    from selenium.webdriver.chrome.service import Service

    root, _ = quick_report
    opts = webdriver.ChromeOptions()
    opts.binary_location = _chromium()
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        f"--user-data-dir={root / 'chrome-profile'}",
    ):
        opts.add_argument(flag)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=opts)
    try:
        driver.get((root / "rep" / "index.html").resolve().as_uri())
        images = driver.execute_script(
            "return Array.from(document.images).map(i => [i.complete, i.naturalWidth, i.alt]);"
        )
        assert len(images) >= 17
        assert all(done and width > 0 for done, width, _ in images), [alt for d, w, alt in images if not (d and w > 0)]
        ids = driver.execute_script("return Array.from(document.querySelectorAll('section')).map(s => s.id);")
        assert [s.upper() if s not in ("bonus", "departures") else s for s in ids if s != "settings"] == SECTIONS
        errors = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
        assert errors == []
    finally:
        driver.quit()


def test_an_interrupted_training_is_resumed_by_the_next_report(tmp_path, monkeypatch):
    """Ctrl-C during the report's training leaves a resumable checkpoint; the next report continues it."""
    import gencli.diffusion.training.trainer as train_mod
    from gencli.core.config import resolve
    from gencli.report.build import _Builder
    from gencli.report.config import QUICK, ReportConfig

    cfg = resolve(ReportConfig, base=QUICK, sets=["diffusion.epochs=40"])
    real, calls = train_mod.denoising_loss, {"n": 0}

    def interrupted(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 21:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(train_mod, "denoising_loss", interrupted)
    builder = _Builder(tmp_path, cfg, True, False, "cpu", lambda name, total: lambda *a, **k: None)
    with pytest.raises(Exception, match="interrupted at step 20"):
        builder.ensure_diffusion("diffusion")
    assert builder._todo("diffusion") == "resume"
    monkeypatch.setattr(train_mod, "denoising_loss", real)
    model = builder.ensure_diffusion("diffusion")
    assert json.loads((builder.paths["diffusion"] / "meta.json").read_text())["step"] == 40
    assert builder._todo("diffusion") == "ready" and model.cfg.train.epochs == 40


@pytest.mark.parametrize("limit", [10, 25, 80])
def test_figure_title_excerpts_end_on_a_whole_word(limit):
    from gencli.plots.common import excerpt

    text = "Alice said, and she went to the door.\n\n `I must be very careful,' said the Dormouse, and away."
    got = excerpt(text, limit)
    assert len(got) <= limit and got.endswith("…")
    kept = got[:-1].rstrip()
    assert " ".join(text.split()).startswith(kept) and (" ".join(text.split()) + " ")[len(kept)] == " "
    assert excerpt("a" * 200, limit) == "a" * (limit - 1) + "…"
    assert excerpt("two  words", limit) == "two words"
