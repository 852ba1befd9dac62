"""The typed config: precedence, typed --set, all problems reported at once."""

import pytest

from gencli.core.config import ConfigError, ConfigSources, resolve, to_dict
from gencli.diffusion.config import DiffusionConfig


def test_precedence_defaults_yaml_set_explicit(tmp_path):
    f = tmp_path / "c.yaml"
    f.write_text("train:\n  epochs: 10\n  lr: 0.5\nmodel:\n  hidden: 7\n")
    cfg = resolve(DiffusionConfig, yaml_path=f, sets=["train.epochs=20"], explicit={"train.epochs": 30})
    assert cfg.train.epochs == 30  # explicit beats --set beats YAML
    assert cfg.train.lr == 0.5  # YAML beats default
    assert cfg.model.hidden == 7
    assert cfg.data.n_points == 3000  # default kept
    cfg2 = resolve(DiffusionConfig, yaml_path=f, sets=["train.epochs=20"])
    assert cfg2.train.epochs == 20


def test_set_values_are_typed():
    cfg = resolve(DiffusionConfig, sets=["train.lr=1e-3", "model.conditional=true", "sample.sampler=heun"])
    assert cfg.train.lr == pytest.approx(1e-3) and isinstance(cfg.train.lr, float)
    assert cfg.model.conditional is True
    assert cfg.sample.sampler == "heun"


def test_all_problems_reported_in_one_line(tmp_path):
    f = tmp_path / "c.yaml"
    f.write_text("train:\n  epochs: -1\n  lr: abc\nmodel:\n  hiden: 3\n")
    with pytest.raises(ConfigError) as e:
        resolve(DiffusionConfig, yaml_path=f)
    msg = str(e.value)
    assert "\n" not in msg and str(f) in msg
    assert "train.lr" in msg and "model.hiden" in msg and "did you mean 'model.hidden'" in msg


@pytest.mark.parametrize(
    "sets, needle",
    [
        (["foo.bar=1"], "unknown key"),
        (["train.epochs=x"], "must be an integer"),
        (["train.epochs=0"], "train.epochs"),
        (["sample.sampler=magic"], "must be one of"),
        (["sde.sigma_min=-1"], "must be positive"),
        (["data.grid_rows=2", "data.grid_cols=2"], "at least 5 classes"),
        (["train"], "key.path=value"),
        (["train=3"], "a section"),
    ],
)
def test_bad_values_rejected(sets, needle):
    with pytest.raises(ConfigError, match=needle):
        resolve(DiffusionConfig, sets=sets)


def test_malformed_yaml_names_file_and_line(tmp_path):
    f = tmp_path / "bad.yaml"
    f.write_text("a: [1,\n")
    with pytest.raises(ConfigError, match=r"malformed YAML in .*bad.yaml \(line"):
        resolve(DiffusionConfig, yaml_path=f)


def test_round_trip_through_dict():
    cfg = resolve(DiffusionConfig, sets=["model.hidden=9"])
    assert resolve(DiffusionConfig, base=to_dict(cfg)) == cfg


def test_lm_exercise_config_is_the_exercise_whatever_the_defaults():
    from pathlib import Path

    from gencli.lm.config import LMConfig

    cfg = resolve(LMConfig, yaml_path=Path(__file__).parent.parent / "configs" / "lm-exercise.yaml")
    m, t, b = cfg.model, cfg.tokenizer, cfg.train
    assert (m.sizes(), m.block_size, m.dropout, m.attn_dropout, m.tie_weights) == ((6, 6, 192), 64, 0.1, 0.1, False)
    assert (m.attn_dropout_mode, b.weight_decay) == ("weights", 0.1)
    assert (t.kind, t.vocab_size) == ("bpe", 2048)
    assert (b.max_iters, b.batch_size, b.lr, b.lr_schedule, b.warmup_iters, b.bpe_dropout, b.ema) == (
        2000,
        32,
        5e-4,
        "constant",
        0,
        0.0,
        0.0,
    )


@pytest.mark.parametrize(
    "sets, needle", [(["train.ema=1"], "ema: must be in"), (["train.bpe_dropout=-0.1"], "bpe_dropout")]
)
def test_lm_bad_values_rejected(sets, needle):
    from gencli.lm.config import LMConfig

    with pytest.raises(ConfigError, match=needle):
        resolve(LMConfig, sets=sets)


def test_report_yaml_states_the_built_in_defaults():
    from pathlib import Path

    from gencli.report.config import ReportConfig

    path = Path(__file__).parent.parent / "configs" / "report.yaml"
    assert to_dict(resolve(ReportConfig, yaml_path=path)) == to_dict(ReportConfig())


BOMB = (
    "a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
    + "".join(f"{n}: &{n} [{', '.join([f'*{p}'] * 9)}]\n" for p, n in zip("abcdefg", "bcdefgh"))
    + "train:\n  epochs: *h\n"
)


def test_yaml_aliases_are_refused_in_one_short_line(tmp_path, cli):
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text(BOMB)  # 9**8 = 43 million strings if expanded
    r = cli("diffusion", "train", "--config", bomb, "--ckpt", tmp_path / "ck")
    assert r.exit_code == 2 and r.stderr.count("\n") == 1 and len(r.stderr) < 200
    assert "aliases" in r.stderr and not (tmp_path / "ck").exists()


def test_a_checkpoint_config_with_aliases_is_a_corrupt_checkpoint(tmp_path, cli, diffusion_ckpts):
    import shutil

    ck = tmp_path / "ck"
    shutil.copytree(diffusion_ckpts["uncond"], ck)
    (ck / "config.yaml").write_text(BOMB)
    r = cli("diffusion", "sample", "--ckpt", ck, "--n", "10")
    assert r.exit_code == 2 and "config.yaml" in r.stderr and len(r.stderr) < 200


def test_a_huge_bad_value_is_quoted_as_a_short_excerpt(tmp_path):
    f = tmp_path / "c.yaml"
    f.write_text("train:\n  epochs: [" + ", ".join(["x" * 50] * 2000) + "]\n")
    with pytest.raises(ConfigError) as e:
        resolve(DiffusionConfig, yaml_path=f, sets=["train.lr=" + "9" * 5000 + "x"])
    text = str(e.value)
    assert len(text) < 400 and "list, 2000 items" in text and "characters" in text


@pytest.mark.parametrize("name", ["diffusion", "diffusion-cond", "lm", "report"])
def test_config_show_is_yaml_that_config_reads_back(name, cli, tmp_path):
    from gencli.cli.config_cmd import defaults
    from gencli.diffusion.config import resolve_diffusion
    from gencli.lm.config import LMConfig
    from gencli.report.config import ReportConfig

    r = cli("config", "show", name)
    assert r.exit_code == 0 and sum(line.strip().startswith("# ") for line in r.stdout.splitlines()) > 10  # helps
    path = tmp_path / "shown.yaml"
    path.write_text(r.stdout)
    back = {
        "diffusion": lambda: resolve_diffusion(ConfigSources(path)),
        "diffusion-cond": lambda: resolve_diffusion(ConfigSources(path)),
        "lm": lambda: resolve(LMConfig, yaml_path=path),
        "report": lambda: resolve(ReportConfig, yaml_path=path),
    }[name]()
    assert to_dict(back) == to_dict(defaults(name))
    assert cli("config", "show", "nope").exit_code == 2
