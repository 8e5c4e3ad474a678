import pytest
import torch

from sktime_diffusion.engine import Condition, DiffusionModel, generate, make_schedule
from sktime_diffusion.engine.baselines import (
    baseline_fill,
    dominant_period,
    interpolate_given,
    seasonal_drift_fill,
    seasonal_fill,
)
from sktime_diffusion.networks import DilatedConvNetwork


def test_interpolation_is_linear_between_given_entries_and_flat_beyond():
    values = torch.tensor([[0.0, 1.0, 7.0, 7.0, 4.0, 9.0], [5.0, 5.0, 5.0, 5.0, 5.0, 5.0]])
    given = torch.tensor([[0, 1, 0, 0, 1, 0], [0, 0, 0, 0, 0, 0]], dtype=torch.bool)
    filled = interpolate_given(values, given)
    assert filled[0].tolist() == [1.0, 1.0, 2.0, 3.0, 4.0, 4.0]
    assert filled[1].tolist() == [0.0] * 6  # nothing given: zero


def test_interpolation_reads_only_the_given_entries():
    generator = torch.Generator().manual_seed(0)
    values = torch.randn(4, 3, 20, generator=generator)
    given = torch.rand(values.shape, generator=generator) > 0.5
    other = torch.where(given, values, torch.randn(values.shape, generator=generator))
    assert torch.equal(interpolate_given(values, given), interpolate_given(other, given))
    assert torch.equal(interpolate_given(values, given)[given], values[given])


def test_unknown_baseline_is_named():
    with pytest.raises(ValueError, match="baseline"):
        baseline_fill("spline", torch.zeros(1, 1, 3), torch.ones(1, 1, 3, dtype=torch.bool))
    with pytest.raises(ValueError, match="baseline"):
        DiffusionModel(
            {"kind": "dilated_conv", "n_features": 1, "n_side": 0},
            make_schedule("cosine"),
            baseline="spline",
        )


def _model(baseline, parameterisation="v"):
    with torch.random.fork_rng():
        torch.manual_seed(0)
        return DiffusionModel(
            DilatedConvNetwork(channels=8).network_config(2, 0),
            make_schedule("cosine", n_steps=50),
            parameterisation,
            baseline,
        )


def test_a_model_with_a_baseline_keeps_the_given_entries_and_saves_its_baseline():
    model = _model("interpolation")
    values = torch.linspace(0, 1, 10).expand(3, 2, 10).clone()
    given = torch.zeros(3, 2, 10, dtype=torch.bool)
    given[..., ::3] = True
    samples = generate(model, Condition(values, given), 4, n_steps=5)
    assert torch.equal(
        samples[:, :, given[0]],
        values[:, None][:, :, given[0]].expand_as(samples[:, :, given[0]]),
    )
    rebuilt = DiffusionModel.from_config(model.config())
    assert rebuilt.baseline == "interpolation"
    assert (
        DiffusionModel.from_config({**model.config(), "baseline": "none"}).baseline
        == "none"
    )


def test_the_loss_of_a_baseline_model_is_relative_to_the_interpolation():
    # data linear in time are their own interpolation: an untrained model whose
    # output is zero (zero-initialised output layer) predicts the residual exactly
    # under the x0 parameterisation, so the loss is zero; without the baseline not
    values = torch.linspace(-1, 1, 12).expand(8, 2, 12).clone()
    observed = torch.ones_like(values, dtype=torch.bool)
    given = torch.zeros_like(observed)
    given[..., ::4] = True
    given[..., -1] = True
    losses = {}
    for baseline in ("interpolation", "none"):
        model = _model(baseline, "x0")
        generator = torch.Generator().manual_seed(0)
        with torch.no_grad():
            losses[baseline] = float(model.loss(values, observed, given, None, generator))
    assert losses["interpolation"] == pytest.approx(0.0, abs=1e-12)
    assert losses["none"] > 0.01


def _seasonal_rows(n_rows=1, length=60, period=12, noise=0.3, seed=0):
    generator = torch.Generator().manual_seed(seed)
    steps = torch.arange(length, dtype=torch.float32)
    season = 3 * torch.sin(2 * torch.pi * steps / period) + 0.05 * steps
    return season + noise * torch.randn(n_rows, length, generator=generator)


def test_the_dominant_period_is_the_season_not_a_multiple_of_it():
    values = _seasonal_rows(n_rows=20)
    given = torch.zeros_like(values, dtype=torch.bool)
    given[:, :48] = True
    assert dominant_period(values, given).tolist() == [12] * 20


def test_no_period_without_a_season_or_without_two_seasons_given():
    generator = torch.Generator().manual_seed(1)
    noise = torch.randn(200, 128, generator=generator)
    given = torch.zeros_like(noise, dtype=torch.bool)
    given[:, :116] = True
    assert (dominant_period(noise, given) == 0).all()
    line = torch.linspace(0, 5, 60).expand(2, 60)
    assert (dominant_period(line, given[:2, :60]) == 0).all()
    sine = _seasonal_rows(period=20, noise=0.0)
    short = torch.zeros_like(sine, dtype=torch.bool)
    short[:, :30] = True  # one and a half seasons
    assert dominant_period(sine, short).item() == 0
    short[:, :44] = True
    assert dominant_period(sine, short).item() == 20


def test_the_seasonal_fill_repeats_the_last_season_after_the_given_entries():
    values = _seasonal_rows(noise=0.0)
    given = torch.zeros_like(values, dtype=torch.bool)
    given[:, :48] = True
    filled = seasonal_fill(values, given)
    assert torch.equal(filled[:, :48], values[:, :48])
    assert torch.equal(filled[:, 48:], values[:, 36:48])  # the last season once more
    backwards = torch.flip(given, [-1])  # given at the end: the first season before
    filled = seasonal_fill(values, backwards)
    assert torch.equal(filled[:, :12], values[:, 12:24])


def test_the_seasonal_fill_interpolates_inside_and_reads_only_the_given_entries():
    values = _seasonal_rows(n_rows=4, noise=0.1)
    generator = torch.Generator().manual_seed(2)
    given = torch.rand(values.shape, generator=generator) > 0.3
    given[:, 50:] = False
    other = torch.where(given, values, torch.randn(values.shape, generator=generator))
    filled = seasonal_fill(values, given)
    assert torch.equal(filled, seasonal_fill(other, given))
    assert torch.equal(filled[given], values[given])
    interpolated = interpolate_given(values, given)
    for row in range(4):
        span = given[row].nonzero()
        inside = slice(int(span.min()), int(span.max()) + 1)
        assert torch.equal(filled[row, inside], interpolated[row, inside])
    assert torch.equal(baseline_fill("seasonal", values, given), filled)


def test_without_a_season_the_seasonal_fill_is_the_interpolation():
    generator = torch.Generator().manual_seed(3)
    values = torch.randn(3, 2, 40, generator=generator)
    given = torch.zeros_like(values, dtype=torch.bool)
    given[..., 5:30] = True
    given[1, 1] = False  # a row with nothing given: zero, as interpolation
    assert (dominant_period(values, given) == 0).all()
    assert torch.equal(seasonal_fill(values, given), interpolate_given(values, given))


def test_the_drift_fill_continues_a_trend_and_a_season_beyond_the_given_entries():
    steps = torch.arange(60, dtype=torch.float32)
    values = (0.5 * steps + 3 * torch.sin(2 * torch.pi * steps / 12))[None]
    given = torch.zeros_like(values, dtype=torch.bool)
    given[:, :44] = True  # three and a half seasons: a season's shape is no trend
    for mask in (given, torch.flip(given, [-1])):  # forwards and backwards
        filled = seasonal_drift_fill(values, mask)
        assert torch.allclose(filled, values, atol=1e-4)
        # seasonal naive alone falls behind by a season's rise per season
        assert (seasonal_fill(values, mask) - values).abs().max() > 5.0


def test_without_a_season_the_drift_fill_is_naive_with_drift():
    generator = torch.Generator().manual_seed(4)
    values = torch.randn(3, 40, generator=generator).cumsum(-1)
    given = torch.zeros_like(values, dtype=torch.bool)
    given[:, 5:30] = True
    assert (dominant_period(values, given) == 0).all()
    drift = (values[:, 29] - values[:, 5]) / 24
    filled = seasonal_drift_fill(values, given)
    ahead = values[:, 29:30] + drift[:, None] * torch.arange(1, 11)
    behind = values[:, 5:6] - drift[:, None] * torch.arange(5, 0, -1)
    assert torch.allclose(filled[:, 30:], ahead, atol=1e-5)
    assert torch.allclose(filled[:, :5], behind, atol=1e-5)


def test_the_drift_fill_is_the_seasonal_fill_inside_and_reads_only_given_entries():
    values = _seasonal_rows(n_rows=4, noise=0.1)
    generator = torch.Generator().manual_seed(2)
    given = torch.rand(values.shape, generator=generator) > 0.3
    given[:, 50:] = False
    given[3] = False  # nothing given: zero, as the other fills
    given[2, :] = False
    given[2, 7] = True  # one given entry: no drift, its value throughout
    other = torch.where(given, values, torch.randn(values.shape, generator=generator))
    filled = seasonal_drift_fill(values, given)
    assert torch.equal(filled, seasonal_drift_fill(other, given))
    assert torch.equal(filled[given], values[given])
    assert torch.equal(filled[2], values[2, 7].expand(60)) and (filled[3] == 0).all()
    seasonal = seasonal_fill(values, given)
    for row in range(2):
        span = given[row].nonzero()
        inside = slice(int(span.min()), int(span.max()) + 1)
        assert torch.equal(filled[row, inside], seasonal[row, inside])
    assert torch.equal(baseline_fill("seasonal_drift", values, given), filled)
