"""The numeric path chosen by measurement: the faster candidate is kept, the cache is used, forced paths are not
timed."""

import json

import pytest
import torch

from gencli.lm.training.numeric_path import (
    NumericPath,
    PathChoice,
    candidates,
    choose,
    time_candidates,
)

SHAPE = {"n_layer": 2, "vocab": 300}


class FakeMachine:
    """A clock that advances by each path's cost when a step runs on it; counts the steps."""

    def __init__(self, cost: dict[str, float]):
        self.cost, self.now, self.steps = cost, 0.0, []

    def clock(self) -> float:
        return self.now

    def step(self, path: NumericPath) -> None:
        self.steps.append(path.name)
        self.now += self.cost[path.name]


def test_the_fastest_candidate_is_kept_then_read_from_the_cache(tmp_path):
    cache = tmp_path / "paths.json"
    for fastest in ("fp32/fused", "bf16/explicit"):
        cost = {"bf16/explicit": 0.20, "bf16/fused": 0.25, "fp32/explicit": 0.15, "fp32/fused": 0.28}
        cost[fastest] = 0.10
        m = FakeMachine(cost)
        shape = {**SHAPE, "case": fastest}
        choice = choose("auto", "auto", torch.device("cpu"), shape, 1000, m.step, cache, m.clock)
        assert choice.path.name == fastest and choice.how == "measured"
        assert choice.tokens_per_s[fastest] == pytest.approx(1000 / 0.10)
        assert choice.tokens_per_s["fp32/fused"] == pytest.approx(
            1000 / 0.28 if fastest != "fp32/fused" else 1000 / 0.10
        )
        assert len(m.steps) == 4 * 4  # one warm-up and three timed steps each
        again = FakeMachine({k: 1.0 for k in cost})
        cached = choose("auto", "auto", torch.device("cpu"), shape, 1000, again.step, cache, again.clock)
        assert cached.how == "cached" and cached.path.name == fastest and again.steps == []
    assert len(json.loads(cache.read_text())) == 2  # one entry per shape


def test_one_auto_axis_measures_only_that_axis_and_forced_is_not_timed(tmp_path):
    m = FakeMachine({"bf16/explicit": 0.3, "bf16/fused": 0.2, "fp32/explicit": 0.1, "fp32/fused": 0.1})
    choice = choose("bf16", "auto", torch.device("cpu"), SHAPE, 10, m.step, None, m.clock)
    assert choice.path == NumericPath("bf16", "fused") and set(m.steps) == {"bf16/explicit", "bf16/fused"}
    m.steps.clear()
    forced = choose("fp32", "explicit", torch.device("cpu"), SHAPE, 10, m.step, tmp_path / "c.json", m.clock)
    assert forced == PathChoice(NumericPath("fp32", "explicit"), "forced") and m.steps == []
    assert not (tmp_path / "c.json").exists()


def test_a_much_slower_candidate_is_timed_once():
    m = FakeMachine({"bf16/explicit": 5.0, "fp32/explicit": 0.1})
    seconds = time_candidates(candidates("auto", "explicit"), m.step, m.clock)
    assert m.steps.count("bf16/explicit") == 1 and m.steps.count("fp32/explicit") == 4
    assert seconds[NumericPath("bf16", "explicit")] == 5.0


def test_a_damaged_cache_is_measured_again(tmp_path):
    cache = tmp_path / "paths.json"
    cache.write_text("{not json")
    m = FakeMachine({"bf16/explicit": 0.2, "fp32/explicit": 0.1})
    assert choose("auto", "explicit", torch.device("cpu"), SHAPE, 10, m.step, cache, m.clock).how == "measured"
    assert len(json.loads(cache.read_text())) == 1
