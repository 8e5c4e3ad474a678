"""Outpainting long series window by window, checked with the exact Gaussian denoiser.

The windows are 8 steps of a stationary AR(1) process (``rho = 0.8``, unit variance):
it is Markov, so a window given the half it shares with an earlier one continues that
one exactly, and a long path drawn window by window must follow the AR(1) law.
"""

import math
import subprocess
import sys
from unittest import mock

import pytest
import torch

import sktime_diffusion.engine.outpainting as outpainting
from sktime_diffusion.engine import (
    Condition,
    DiffusionModel,
    OutpaintRound,
    conditional_gaussian,
    generate,
    make_schedule,
    outpaint,
)
from sktime_diffusion.engine.streams import stream_seed
from sktime_diffusion.networks import DilatedConvNetwork

from .test_sampler_defaults import _OracleNetwork

RHO, LENGTH = 0.8, 8
STEPS = torch.arange(LENGTH, dtype=torch.float64)
MEAN = torch.zeros(LENGTH, dtype=torch.float64)
COVARIANCE = RHO ** (STEPS[:, None] - STEPS[None, :]).abs()


def _model(n_side: int = 0, network=None) -> DiffusionModel:
    schedule = make_schedule("cosine", n_steps=50)
    config = DilatedConvNetwork(channels=4, n_layers=1).network_config(1, n_side)
    model = DiffusionModel(config, schedule, "v")
    model.network = network or _OracleNetwork(
        MEAN.reshape(1, LENGTH), COVARIANCE, schedule, "v"
    )
    return model


def _series(length: int, known: dict[int, float]) -> torch.Tensor:
    """One feature of ``length`` steps, NaN but at ``known``."""
    values = torch.full((1, length), math.nan, dtype=torch.float64)
    for step, value in known.items():
        values[0, step] = value
    return values


def _continuing(n_timepoints: int, seed: int = 0) -> list[OutpaintRound]:
    """Windows every half window, one round each, the last ending at the last step."""
    starts = sorted(
        {*range(0, n_timepoints - LENGTH + 1, LENGTH // 2), n_timepoints - LENGTH}
    )
    return [OutpaintRound([(0, start)], seed=seed + k) for k, start in enumerate(starts)]


def _side_by_side_then_borders(n_timepoints: int) -> list[OutpaintRound]:
    """The imputer's two rounds: windows side by side, then the middles across borders."""
    quarter = LENGTH // 4
    return [
        OutpaintRound([(0, s) for s in range(0, n_timepoints, LENGTH)], seed=1),
        OutpaintRound(
            [(0, s) for s in range(LENGTH // 2, n_timepoints - LENGTH + 1, LENGTH)],
            seed=2,
            steps=slice(quarter, LENGTH - quarter),
            redraw=True,
        ),
    ]


def _outpaint(values, rounds, n_samples=3, **options):
    options = {"sampler": "ddim", "n_steps": 4, **options}
    return outpaint(_model(), [values], rounds, LENGTH, n_samples, **options)[0]


# ---------------------------------------------------------------- what is kept
def test_known_entries_come_back_exactly_and_every_unknown_entry_is_drawn():
    values = _series(21, {0: 0.3, 1: -1.2, 9: 2.0, 20: 0.7})
    paths = _outpaint(values, _continuing(21))
    known = ~torch.isnan(values[0])
    assert paths.shape == (3, 1, 21) and paths.dtype == torch.float64
    assert torch.equal(paths[:, 0, known], values[0, known].expand(3, -1))
    assert bool(torch.isfinite(paths).all())
    assert not torch.equal(paths[0], paths[1])  # one draw per path


def test_unknown_entries_outside_fill_are_neither_given_nor_kept():
    """A forecast's missing history: generated inside the windows, returned as NaN."""
    values = _series(16, {0: 0.3, 2: 0.1, 3: -0.4})
    fill = torch.zeros(1, 16, dtype=torch.bool)
    fill[0, 4:] = True
    rounds = [OutpaintRound([(0, 0)], seed=0), OutpaintRound([(0, 8)], seed=1)]
    paths = _outpaint(values, rounds, fill=[fill])
    assert bool(torch.isnan(paths[:, 0, 1]).all())
    assert bool(torch.isfinite(paths[:, 0, 4:]).all())


def test_fill_that_no_window_reaches_stays_nan():
    paths = _outpaint(_series(16, {0: 1.0}), [OutpaintRound([(0, 0)], seed=0)])
    assert bool(torch.isfinite(paths[:, :, :8]).all())
    assert bool(torch.isnan(paths[:, :, 8:]).all())


def test_the_callers_values_are_not_modified():
    values = _series(12, {0: 1.0})
    before = values.clone()
    _outpaint(values, _continuing(12))
    assert torch.equal(values.isnan(), before.isnan())


# ---------------------------------------------------------------- how rounds combine
def test_a_later_window_continues_an_earlier_one_where_they_overlap():
    values = _series(12, {0: 1.0})
    first = [OutpaintRound([(0, 0)], seed=0)]
    alone = _outpaint(values, first)
    continued = _outpaint(values, [*first, OutpaintRound([(0, 4)], seed=1)])
    assert torch.equal(continued[:, :, :8], alone[:, :, :8])
    assert bool(torch.isfinite(continued).all())


def test_redraw_draws_the_round_steps_again_and_keeps_the_rest():
    values = _series(24, {0: 1.0, 5: 0.2, 23: -1.0})
    side_by_side, borders = _side_by_side_then_borders(24)
    first = _outpaint(values, [side_by_side])
    both = _outpaint(values, [side_by_side, borders])
    middles = torch.zeros(24, dtype=torch.bool)
    for start in (4, 12):  # the border windows; their middles are steps 6:10, 14:18
        middles[start + 2 : start + 6] = True
    assert torch.equal(both[:, :, ~middles], first[:, :, ~middles])
    assert bool((both[:, :, middles] != first[:, :, middles]).all())
    assert bool((both[:, 0, 5] == 0.2).all())


def test_a_window_with_nothing_to_draw_is_skipped():
    values = _series(12, dict.fromkeys(range(8), 0.5))
    with mock.patch.object(outpainting, "generate", wraps=outpainting.generate) as spy:
        paths = _outpaint(values, _continuing(12))  # windows at 0 (all known) and 4
    assert spy.call_count == 1 and bool(torch.isfinite(paths).all())


def test_one_draw_per_path_of_a_window_is_n_samples_draws_of_it():
    """So a first block drawn per path draws what one window with n_samples would."""
    values = _series(LENGTH, {0: 0.5, 1: 0.1, 6: -0.3})
    given = ~torch.isnan(values)
    condition = Condition(torch.nan_to_num(values)[None], given[None])
    options = {"sampler": "ddpm", "n_steps": 5}
    # the window's own start noise, and its group's generator for the sampler's noise
    model = _model()
    window_seed = stream_seed(9, "outpaint window", 0, 0)  # series 0, step 0
    start_noise = torch.randn(
        (1, 4, 1, LENGTH),
        generator=torch.Generator().manual_seed(window_seed),
        dtype=next(model.parameters()).dtype,
    )
    group = torch.Generator().manual_seed(stream_seed(9, "outpaint group", 0, 0))
    expected = generate(
        model, condition, 4, generator=group, start_noise=start_noise, **options
    )[0]
    paths = _outpaint(values, [OutpaintRound([(0, 0)], seed=9)], 4, **options)
    assert torch.equal(paths, expected)


def test_a_round_is_drawn_in_groups_of_bounded_size_to_the_same_paths():
    """However many windows a round has, each group stacks at most ENTRIES_PER_GROUP
    entries, and the deterministic samplers draw the same paths for any grouping."""
    values = _series(200, {0: 1.0, 37: -0.5, 150: 0.2})
    rounds = _side_by_side_then_borders(200)
    whole = _outpaint(values, rounds, n_samples=3, sampler="dpm_solver", n_steps=5)
    sizes = []
    draw = outpainting._draw_windows

    def recording(model, current, *args):
        sizes.append(current.numel())
        return draw(model, current, *args)

    per_window = 3 * 1 * LENGTH  # samples x features x steps
    with (
        mock.patch.object(outpainting, "ENTRIES_PER_GROUP", 4 * per_window),
        mock.patch.object(outpainting, "_draw_windows", recording),
    ):
        grouped = _outpaint(values, rounds, n_samples=3, sampler="dpm_solver", n_steps=5)
    assert len(sizes) == 7 + 6  # 25 side by side and 24 across borders, 4 at a time
    assert max(sizes) == 4 * per_window
    assert torch.equal(grouped, whole)


def test_the_same_seeds_draw_the_same_paths():
    values = _series(20, {0: 1.0, 13: -0.5})
    rounds = _continuing(20)
    assert torch.equal(_outpaint(values, rounds), _outpaint(values, rounds))
    assert not torch.equal(_outpaint(values, rounds), _outpaint(values, _continuing(20, 5)))


def test_a_window_draws_the_same_whatever_other_windows_its_round_holds():
    """Its noise is keyed by its series and first step, not its place in a round."""
    values = _series(24, {0: 1.0, 10: -0.5, 20: 0.3})
    both = _outpaint(values, [OutpaintRound([(0, 0), (0, 8), (0, 16)], seed=3)])
    alone = _outpaint(values, [OutpaintRound([(0, 8)], seed=3)])
    assert torch.equal(both[:, :, 8:16], alone[:, :, 8:16])
    assert not torch.equal(both[:, :, 0:8], both[:, :, 8:16])


def test_the_windows_of_several_series_are_drawn_in_one_round():
    short, long = _series(8, {0: 1.0}), _series(16, {15: -1.0})
    rounds = [OutpaintRound([(0, 0), (1, 0), (1, 8)], seed=3)]
    paths = outpaint(_model(), [short, long], rounds, LENGTH, 2, sampler="ddim", n_steps=4)
    assert [tuple(p.shape) for p in paths] == [(2, 1, 8), (2, 1, 16)]
    assert all(bool(torch.isfinite(p).all()) for p in paths)


def test_each_window_is_shown_its_stretch_of_the_side_channels():
    seen = []

    class Recording(_OracleNetwork):
        def forward(self, network_input, t, given_values, given, side=None):
            seen.append(side)
            return super().forward(network_input, t, given_values, given)

    schedule = make_schedule("cosine", n_steps=50)
    network = Recording(MEAN.reshape(1, LENGTH), COVARIANCE, schedule, "v")
    side = torch.arange(12, dtype=torch.float64).reshape(1, 12)
    rounds = [OutpaintRound([(0, 4)], seed=0)]
    outpaint(
        _model(1, network),
        [_series(12, {0: 1.0})],
        rounds,
        LENGTH,
        2,
        side=[side],
        sampler="ddim",
        n_steps=2,
    )
    assert seen and all(torch.equal(s, side[:, 4:12].expand(2, 1, 8)) for s in seen)


# ---------------------------------------------------------------- the distribution
def test_a_stretch_of_many_windows_follows_the_joint_gaussian():
    """Given x_0, x_k ~ N(rho^k x_0, 1 - rho^(2k)) and lag-one correlation holds across
    the windows' borders (steps 7 -> 8, 15 -> 16: drawn by different windows)."""
    n, start = 3000, 1.5
    paths = _outpaint(
        _series(20, {0: start}), _continuing(20), n, sampler="dpm_solver", n_steps=None
    )
    x = paths[:, 0]
    for k in (3, 8, 12, 19):
        mean, variance = RHO**k * start, 1 - RHO ** (2 * k)
        assert abs(float(x[:, k].mean()) - mean) < 4 * math.sqrt(variance / n)
        assert abs(float(x[:, k].var()) / variance - 1) < 0.05 + 4 * math.sqrt(2 / n)
    for k in (7, 15):
        # Cov(x_k, x_k+1 | x_0) = rho (1 - rho^(2k)), so the correlation is
        want = RHO * math.sqrt((1 - RHO ** (2 * k)) / (1 - RHO ** (2 * k + 2)))
        got = float(torch.corrcoef(x[:, k : k + 2].T)[0, 1])
        assert abs(got - want) < 0.05


def test_a_gap_shorter_than_a_window_is_the_conditional_gaussian():
    known = {0: 0.4, 1: 0.9, 2: 1.1, 5: -0.2, 6: 0.0, 7: 0.3}
    values = _series(LENGTH, known)
    n = 3000
    paths = _outpaint(
        values, [OutpaintRound([(0, 0)], seed=0)], n, sampler="dpm_solver", n_steps=None
    )
    given = ~torch.isnan(values[0])
    want_mean, want_cov = conditional_gaussian(
        MEAN, COVARIANCE, given, torch.nan_to_num(values[0])
    )
    gap = paths[:, 0, ~given]
    variance = want_cov.diag()
    assert bool(((gap.mean(0) - want_mean).abs() < 4 * (variance / n).sqrt()).all())
    assert bool(((gap.var(0) / variance - 1).abs() < 0.05 + 4 * math.sqrt(2 / n)).all())


# ---------------------------------------------------------------- window scaling
def test_windows_standardised_by_their_given_entries_make_outpainting_affine():
    """With ``window_scale_floor`` the model sees each window in the units of its given
    entries: shifting and stretching the data shifts and stretches every path."""
    values = _series(16, {0: 0.5, 1: -0.3, 2: 0.8, 3: 0.1})
    fill = torch.isnan(values)
    rounds = _continuing(16)  # every window is given the half before it
    floor = torch.full((1, 1), 1e-3, dtype=torch.float64)
    base = _outpaint(values, rounds, fill=[fill], window_scale_floor=floor)
    moved = _outpaint(
        250.0 + 40.0 * values, rounds, fill=[fill], window_scale_floor=40.0 * floor
    )
    assert torch.allclose(moved, 250.0 + 40.0 * base, rtol=1e-12, atol=1e-9)
    unscaled = _outpaint(250.0 + 40.0 * values, rounds, fill=[fill])
    assert not torch.allclose(unscaled, moved, rtol=1e-3)


# ---------------------------------------------------------------- bad arguments
@pytest.mark.parametrize(
    ("rounds", "message"),
    [
        ([OutpaintRound([(0, 0), (0, 4)], seed=0)], "overlapping windows of series 0"),
        ([OutpaintRound([(0, 9)], seed=0)], "window at step 9 of series 0"),
        ([OutpaintRound([(1, 0)], seed=0)], "window of series 1, but there are 1"),
        ([OutpaintRound([(0, 0)], seed=0, steps=slice(0, 8, 2))], "contiguous slice"),
    ],
)
def test_rounds_that_cannot_be_drawn_are_refused(rounds, message):
    with pytest.raises(ValueError, match=message):
        _outpaint(_series(16, {0: 1.0}), rounds)


def test_fill_of_known_entries_is_refused():
    values = _series(8, {0: 1.0})
    with pytest.raises(ValueError, match="fill of series 0 marks known"):
        _outpaint(values, [OutpaintRound([(0, 0)], seed=0)], fill=[torch.ones(1, 8) > 0])


def test_series_with_the_wrong_number_of_features_are_refused():
    values = torch.full((2, 8), math.nan, dtype=torch.float64)
    with pytest.raises(ValueError, match=r"series 0 needs shape \(1, n_timepoints\)"):
        _outpaint(values, [OutpaintRound([(0, 0)], seed=0)])


def test_a_round_of_many_windows_needs_no_whole_series_mask_per_window():
    """Regression: each window's given mask was cut from a mask of the whole series
    built for it, 60,000 steps x 7,500 windows = 450 MB here (2.3 GB in the imputer's
    transform of 100,000 x 8 points); sliced first, the round adds a few MB."""
    script = """
import resource, sys, torch
from sktime_diffusion.engine import DiffusionModel, OutpaintRound, make_schedule, outpaint
from sktime_diffusion.networks import DilatedConvNetwork
config = DilatedConvNetwork(channels=4, n_layers=1).network_config(1, 0)
model = DiffusionModel(config, make_schedule("cosine", n_steps=10), "v")
values = torch.full((1, 60_000), float("nan"), dtype=torch.float64)
values[0, ::4] = 0.5
rounds = [OutpaintRound([(0, s) for s in range(0, 60_000, 8)], seed=0)]
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
outpaint(model, [values], rounds, 8, 1, sampler="ddim", n_steps=1)
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 - before)
"""
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    assert float(result.stdout.strip().splitlines()[-1]) < 150  # MB
