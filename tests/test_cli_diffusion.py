"""Every diffusion command through the real app: exit codes, JSON keys, files, bad input."""

import csv
import math
import shutil

import numpy as np
import pytest

from tests.conftest import TINY_DIFFUSION


def _files_exist(result):
    from pathlib import Path

    files = result["files"]
    assert files, "a command must report the files it wrote"
    for p in files.values():
        assert Path(p).exists(), p


def test_version_and_help(cli):
    r = cli("--version")
    assert r.exit_code == 0 and r.stdout.startswith("gencli ")
    for cmd in ("train", "sample", "trajectory", "determinism", "prob", "invert", "schedule"):
        r = cli("diffusion", cmd, "--help")
        assert r.exit_code == 0 and "Example: gencli diffusion" in r.stdout


def test_train_then_sample_with_defaults_chain(cli):
    r = cli("diffusion", "train", *TINY_DIFFUSION, "--json")
    assert r.exit_code == 0, r.stderr
    res = r.json()
    assert {"final_loss", "wall_s", "files"} <= res.keys()
    _files_exist(res)
    r = cli("diffusion", "sample", "--n", "200", "--steps", "20", "--json")
    assert r.exit_code == 0, r.stderr
    res = r.json()
    with open(res["files"]["samples"]) as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["x", "y"] and len(rows) == 201
    pts = np.array(rows[1:], dtype=float)
    assert res["inside_fraction"] == pytest.approx(np.mean(np.all(np.abs(pts) <= 1, axis=1)))
    counts, _, _ = np.histogram2d(pts[:, 0], pts[:, 1], bins=10, range=[[-1, 1], [-1, 1]])
    outside = 1 - counts.sum() / len(pts)  # TV from uniform, the mass outside the square as a bin of its own
    assert res["tv_distance"] == pytest.approx(0.5 * (np.abs(counts / len(pts) - 0.01).sum() + outside), abs=1e-9)


def test_same_seed_gives_byte_identical_samples(cli, diffusion_ckpts, tmp_path):
    outs = []
    for d in ("a", "b"):
        r = cli(
            "diffusion",
            "sample",
            "--ckpt",
            diffusion_ckpts["uncond"],
            "--n",
            "100",
            "--steps",
            "30",
            "--sampler",
            "sde",
            "--out-dir",
            tmp_path / d,
            "--json",
        )
        assert r.exit_code == 0, r.stderr
        outs.append((tmp_path / d / "samples.csv").read_bytes())
    assert outs[0] == outs[1]


def test_sample_sweeps_and_conditional_table(cli, diffusion_ckpts):
    r = cli(
        "diffusion",
        "sample",
        "--ckpt",
        diffusion_ckpts["cond"],
        "--n",
        "90",
        "--steps",
        "10",
        "--steps-sweep",
        "1,5",
        "--compare",
        "euler/uniform,heun/karras",
        "--seeds-grid",
        "--json",
    )
    assert r.exit_code == 0, r.stderr
    res = r.json()
    assert len(res["own_region_fraction"]) == 9 and [row["steps"] for row in res["steps_sweep"]] == [1, 5]
    assert [(row["sampler"], row["schedule"]) for row in res["compare"]] == [("euler", "uniform"), ("heun", "karras")]
    _files_exist(res)
    with open(res["files"]["samples"]) as f:
        assert next(csv.reader(f)) == ["x", "y", "label"]


def test_determinism_exact_for_ode_and_not_for_sde(cli, diffusion_ckpts):
    base = [
        "diffusion",
        "determinism",
        "--ckpt",
        diffusion_ckpts["uncond"],
        "--repeats",
        "3",
        "--n",
        "40",
        "--steps",
        "20",
        "--json",
    ]
    ode = cli(*base, "--sampler", "euler").json()
    assert ode["identical"] is True and ode["max_abs_diff"] == 0.0
    sde = cli(*base, "--sampler", "sde").json()
    assert sde["identical"] is False and sde["max_abs_diff"] > 0
    _files_exist(sde)


def test_trajectories(cli, diffusion_ckpts):
    fwd = cli("diffusion", "trajectory", "--forward", "--point", "1.5,1.5", "--json").json()
    assert fwd["start"] == [1.5, 1.5]
    _files_exist(fwd)
    cond = cli("diffusion", "trajectory", "--ckpt", diffusion_ckpts["cond"], "--steps", "20", "--json").json()
    assert len(cond["ends"]) == 9 and len(cond["in_own_region"]) == 9
    rev = cli("diffusion", "trajectory", "--ckpt", diffusion_ckpts["uncond"], "--steps", "20", "--json").json()
    assert len(rev["ends"]) == 4
    # --steps counts with a checkpoint too (the report's U1 command names it), and the same seed, the same path
    a, b = (
        cli("diffusion", "trajectory", "--forward", "--ckpt", diffusion_ckpts["uncond"], "--steps", n, "--json").json()
        for n in ("7", "7")
    )
    assert a["steps"] == 7 and a["end"] == b["end"]
    assert cli("diffusion", "trajectory", "--forward", "--steps", "9", "--json").json()["steps"] == 9


def test_prob_points_and_classes(cli, diffusion_ckpts):
    r = cli(
        "diffusion",
        "prob",
        "--ckpt",
        diffusion_ckpts["cond"],
        "--point",
        "0,0,4",
        "--point",
        "0,0,0",
        "--point",
        "3,3,8",
        "--samples",
        "64",
        "--json",
    )
    assert r.exit_code == 0, r.stderr
    pts = r.json()["points"]
    assert [(p["x"], p["y"], p["class"]) for p in pts] == [(0, 0, 4), (0, 0, 0), (3, 3, 8)]
    assert all({"elbo", "stderr"} <= p.keys() and p["stderr"] > 0 for p in pts)


def test_prob_exact_beside_the_bound(cli, diffusion_ckpts):
    r = cli(
        "diffusion",
        "prob",
        "--ckpt",
        diffusion_ckpts["cond"],
        "--point",
        "0,0,4",
        "--point",
        "3,3,8",
        "--samples",
        "256",
        "--exact",
        "--rtol",
        "1e-6",
        "--atol",
        "1e-6",
        "--json",
    )
    assert r.exit_code == 0, r.stderr
    inside, outside = r.json()["points"]
    for p in (inside, outside):
        assert {"exact_logp", "exact_nfe", "exact_logp_data_prior", "smoothed_truth"} <= p.keys() and p[
            "exact_nfe"
        ] > 10
        assert p["exact_logp"] >= p["elbo"] - 3 * p["stderr"]  # the bound lies below, but for Monte Carlo noise
    assert inside["smoothed_truth"] == pytest.approx(math.log(9 / 4), abs=1e-9)  # sigma_min is tiny next to the cell
    assert outside["smoothed_truth"] < -1000 < outside["exact_logp"]
    again = cli(
        "diffusion",
        "prob",
        "--ckpt",
        diffusion_ckpts["cond"],
        "--point",
        "0,0,4",
        "--point",
        "3,3,8",
        "--samples",
        "256",
        "--exact",
        "--rtol",
        "1e-6",
        "--atol",
        "1e-6",
        "--json",
    ).json()["points"]
    assert [p["exact_logp"] for p in again] == [inside["exact_logp"], outside["exact_logp"]]  # deterministic


def test_invert_and_schedule(cli, diffusion_ckpts):
    inv = cli(
        "diffusion", "invert", "--ckpt", diffusion_ckpts["uncond"], "--iterations", "5", "--steps", "10", "--json"
    ).json()
    assert inv["distance"] == pytest.approx(
        ((inv["final"][0] - 4) ** 2 + (inv["final"][1] - 5.5) ** 2) ** 0.5, abs=1e-5
    )
    assert inv["iterations"] == 5 and inv["success"] is False
    with open(inv["files"]["invert"]) as f:
        last = list(csv.DictReader(f))[-1]
    assert [float(last["x"]), float(last["y"])] == pytest.approx(inv["final"], abs=1e-6)
    _files_exist(inv)
    sch = cli("diffusion", "schedule", "--steps", "10", "--json").json()
    assert sch["schedules"]["uniform"]["sigma_first"] == pytest.approx(1.0)
    _files_exist(sch)


@pytest.mark.parametrize(
    "args, needle",
    [
        (["diffusion", "sample", "--ckpt", "nowhere"], "no checkpoint at nowhere"),
        (["diffusion", "sample", "--bogus"], "No such option"),
        (["diffusion", "sample", "--steps", "-3"], "--steps"),
        (["diffusion", "sample", "--sampler", "magic"], "--sampler"),
        (["diffusion", "sample", "--n", "0"], "--n"),
        (["diffusion", "sample", "--device", "tpu"], "--device"),
        (["diffusion", "sample", "--compare", "euler/sideways"], "--compare"),
        (["report", "--set", "diffusion.epochs=-1"], "diffusion.epochs"),
        (["diffusion", "prob", "--point", "1,a"], "--point"),
        (["diffusion", "invert", "--target", "4"], "--target"),
        (["diffusion", "train", "--set", "train.epochs=-1"], "train.epochs"),
        (["diffusion", "train", "--set", "nope.key=1"], "unknown key"),
        (["diffusion", "train", "--set", "data.grid_rows=1"], "at least 5 classes"),
        (["diffusion", "train", "--set", "sde.sigma_max=0"], "positive"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(cli, args, needle):
    r = cli(*args)
    assert r.exit_code == 2
    assert needle in r.stderr and r.stderr.count("\n") == 1 and "Traceback" not in r.stderr


def test_checkpoint_errors_via_cli(cli, diffusion_ckpts, tmp_path):
    bad = tmp_path / "bad"
    shutil.copytree(diffusion_ckpts["uncond"], bad)
    (bad / "model.safetensors").write_bytes(b"\x00garbage")
    r = cli("diffusion", "sample", "--ckpt", bad)
    assert r.exit_code == 2 and "corrupt weights" in r.stderr
    r = cli("diffusion", "prob", "--ckpt", diffusion_ckpts["cond"], "--point", "0,0,9")
    assert r.exit_code == 2 and "out of range" in r.stderr
    r = cli("diffusion", "sample", "--ckpt", diffusion_ckpts["uncond"], "--set", "model.hidden=3")
    assert r.exit_code == 2 and "cannot change" in r.stderr
    keep = tmp_path / "keep"
    keep.mkdir()
    (keep / "thesis.txt").write_text("precious")
    r = cli("diffusion", "train", "--ckpt", keep, *TINY_DIFFUSION)
    assert r.exit_code == 2 and (keep / "thesis.txt").read_text() == "precious"


def test_nan_loss_stops_and_keeps_the_checkpoint(cli, tmp_path):
    ck = tmp_path / "ck"
    assert cli("diffusion", "train", "--ckpt", ck, *TINY_DIFFUSION).exit_code == 0
    before = (ck / "model.safetensors").read_bytes()
    r = cli("diffusion", "train", "--ckpt", ck, *TINY_DIFFUSION, "--set", "train.lr=1e30", "--force")
    assert r.exit_code == 1 and "loss became" in r.stderr and r.stderr.count("\n") == 1
    assert (ck / "model.safetensors").read_bytes() == before


def test_resume_via_cli(cli, tmp_path):
    ck = tmp_path / "ck"
    assert cli("diffusion", "train", "--ckpt", ck, *TINY_DIFFUSION).exit_code == 0
    r = cli("diffusion", "train", "--ckpt", ck, *TINY_DIFFUSION, "--epochs", "80", "--resume", "--json")
    assert r.exit_code == 0, r.stderr
    assert r.json()["epochs"] == 80
    with open(ck / "metrics.csv") as f:
        assert len(list(csv.reader(f))) == 81


def test_ctrl_c_saves_a_resumable_state(cli, tmp_path, monkeypatch):
    import json

    import gencli.diffusion.training.trainer as train_mod

    real = train_mod.denoising_loss
    calls = {"n": 0}

    def interrupted(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 26:
            real(*args, **kwargs)  # the interrupt lands after this epoch's noise was drawn
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(train_mod, "denoising_loss", interrupted)
    ck = tmp_path / "ck"
    r = cli("diffusion", "train", "--ckpt", ck, *TINY_DIFFUSION)
    assert r.exit_code == 130 and "--resume" in r.stderr
    meta = json.loads((ck / "meta.json").read_text())
    assert meta["step"] == 25 and meta["interrupted"] is True
    monkeypatch.setattr(train_mod, "denoising_loss", real)
    r = cli("diffusion", "train", "--ckpt", ck, *TINY_DIFFUSION, "--resume", "--json")
    assert r.exit_code == 0 and r.json()["epochs"] == 60
    assert cli("diffusion", "train", "--ckpt", tmp_path / "straight", *TINY_DIFFUSION).exit_code == 0
    assert (ck / "metrics.csv").read_text() == (tmp_path / "straight" / "metrics.csv").read_text()


def test_device_is_used_or_refused_in_one_line(cli, diffusion_ckpts):
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA; the refusal is what a CPU-only machine shows")
    for args in (
        ["diffusion", "sample", "--ckpt", diffusion_ckpts["uncond"]],
        ["diffusion", "train", "--ckpt", "x"],
        ["lm", "generate", "--ckpt", "nowhere"],
        ["report", "--quick", "--out", "rep"],
    ):
        r = cli(*args, "--device", "cuda")
        assert r.exit_code == 2 and "no CUDA device" in r.stderr and r.stderr.count("\n") == 1, args
    r = cli(
        "diffusion",
        "sample",
        "--ckpt",
        diffusion_ckpts["uncond"],
        "--n",
        "20",
        "--steps",
        "5",
        "--device",
        "cpu",
        "--json",
    )
    assert r.exit_code == 0, r.stderr


def test_conditional_sample_writes_the_per_class_figure(cli, diffusion_ckpts):
    r = cli("diffusion", "sample", "--ckpt", diffusion_ckpts["cond"], "--n", "90", "--steps", "10", "--json")
    assert r.exit_code == 0, r.stderr
    res = r.json()
    assert {"samples", "samples_figure", "class_numbers_figure", "config"} <= res["files"].keys()
    assert res["own_region_mean"] == pytest.approx(sum(res["own_region_fraction"]) / 9)


def test_guidance_options_and_the_null_class(cli, diffusion_ckpts, tmp_path):
    ck = diffusion_ckpts["cond"]
    base = ["diffusion", "sample", "--ckpt", ck, "--n", "90", "--steps", "10"]
    plain = cli(*base, "--json").json()
    guided = cli(*base, "--guidance", "2", "--guidance-interval", "0,1", "--json")
    assert guided.exit_code == 0, guided.stderr
    g = guided.json()
    assert g["guidance"] == 2.0 and g["guidance_interval"] == [0.0, 1.0]
    assert g["own_region_fraction"] != plain["own_region_fraction"] or g["tv_distance"] != plain["tv_distance"]
    none = cli(*base, "--class", "none", "--out-dir", tmp_path / "none", "--json")
    assert none.exit_code == 0, none.stderr
    assert "own_region_fraction" not in none.json()
    with open(tmp_path / "none" / "samples.csv") as f:
        assert next(csv.reader(f)) == ["x", "y"]
    sweep = cli(*base, "--guidance-sweep", "0,1", "--json").json()
    assert [(r["guidance"], tuple(r["interval"])) for r in sweep["guidance_sweep"]] == [
        (0.0, (0.0, 0.4)),
        (1.0, (0.0, 0.4)),
        (0.0, (0.0, 1.0)),
        (1.0, (0.0, 1.0)),
    ]
    assert sweep["guidance_sweep"][0]["own_region_mean"] == sweep["guidance_sweep"][2]["own_region_mean"]
    det = cli(
        "diffusion",
        "determinism",
        "--ckpt",
        ck,
        "--repeats",
        "2",
        "--n",
        "20",
        "--steps",
        "5",
        "--guidance",
        "1",
        "--json",
    )
    assert det.exit_code == 0 and det.json()["identical"] is True
    traj = cli("diffusion", "trajectory", "--ckpt", ck, "--steps", "5", "--guidance", "1", "--json")
    assert traj.exit_code == 0 and len(traj.json()["ends"]) == 9


@pytest.mark.parametrize(
    "extra, needle",
    [
        (["--guidance", "1"], "null class"),
        (["--guidance-interval", "0.5,0.2"], "guidance_interval"),
        (["--guidance", "-1"], "guidance"),
        (["--class", "none"], "unconditional"),
        (["--guidance-sweep", "0,x"], "--guidance-sweep"),
    ],
)
def test_guidance_errors_are_one_line(cli, diffusion_ckpts, extra, needle):
    r = cli("diffusion", "sample", "--ckpt", diffusion_ckpts["uncond"], "--n", "10", "--steps", "5", *extra)
    assert r.exit_code == 2 and needle in r.stderr and r.stderr.count("\n") == 1, r.stderr


def test_conditional_defaults_without_a_config_file():
    from gencli.core.config import ConfigSources
    from gencli.diffusion.config import resolve_diffusion

    cond = resolve_diffusion(ConfigSources(sets=("model.conditional=true",)))
    assert (cond.train.epochs, cond.train.class_dropout, cond.null_class) == (8000, 0.2, True)
    assert (cond.model.hidden, cond.train.lr) == (128, 3e-3)
    assert (
        resolve_diffusion(
            ConfigSources(
                sets=(
                    "model.conditional=true",
                    "train.epochs=50",
                )
            )
        ).train.epochs
        == 50
    )
    plain = resolve_diffusion()
    assert (plain.train.epochs, plain.train.class_dropout, plain.null_class) == (3000, 0.0, False)
    assert (plain.model.hidden, plain.train.lr) == (64, 5e-3)
