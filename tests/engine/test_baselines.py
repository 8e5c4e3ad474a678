import pytest
import torch

from sktime_diffusion.engine import (
    Condition,
    DiffusionModel,
    MaskStrategy,
    generate,
    make_schedule,
)
from sktime_diffusion.engine.baselines import (
    MIN_RESIDUAL_SCALE,
    baseline_fill,
    interpolate_given,
    residual_scale,
)


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


def _model(baseline, scale=1.0):
    with torch.random.fork_rng():
        torch.manual_seed(0)
        return DiffusionModel(
            {"kind": "dilated_conv", "n_features": 2, "n_side": 0, "channels": 8},
            make_schedule("cosine", n_steps=50),
            "v",
            baseline,
            scale,
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
        model = DiffusionModel(
            {"kind": "dilated_conv", "n_features": 2, "n_side": 0, "channels": 8},
            make_schedule("cosine", n_steps=50),
            "x0",
            baseline,
        )
        generator = torch.Generator().manual_seed(0)
        with torch.no_grad():
            losses[baseline] = float(model.loss(values, observed, given, None, generator))
    assert losses["interpolation"] == pytest.approx(0.0, abs=1e-12)
    assert losses["none"] > 0.01


def _scale(kind, values, observed=None, strategy=None):
    observed = torch.ones_like(values, dtype=torch.bool) if observed is None else observed
    strategy = MaskStrategy(random=1.0, max_ratio=0.5) if strategy is None else strategy
    generator = torch.Generator().manual_seed(0)
    return residual_scale(kind, values, observed, strategy, generator, max_windows=50)


def test_the_residual_scale_is_the_size_of_the_differences_training_sees():
    generator = torch.Generator().manual_seed(1)
    values = torch.randn(80, 3, 24, generator=generator)
    scale = _scale("interpolation", values)
    # white noise differs from its interpolation by about its own size or more
    assert 0.8 < scale < 2.0
    assert _scale("interpolation", 5 * values) == pytest.approx(5 * scale, rel=1e-6)
    assert _scale("interpolation", values + 3.0) == pytest.approx(scale, rel=1e-5)
    assert _scale("none", values) == 1.0


def test_the_residual_scale_has_a_floor_and_a_neutral_value():
    constant = torch.full((10, 2, 24), 2.0)
    assert _scale("interpolation", constant) == MIN_RESIDUAL_SCALE  # no difference
    nothing_observed = torch.zeros_like(constant, dtype=torch.bool)
    assert _scale("interpolation", constant, nothing_observed) == 1.0


def test_samples_are_the_baseline_plus_the_residual_scale_times_the_diffusion():
    values = torch.sin(torch.linspace(0, 6, 16)).expand(2, 2, 16).clone()
    given = torch.zeros_like(values, dtype=torch.bool)
    given[..., ::5] = True
    condition = Condition(values, given)
    baseline = interpolate_given(values, given)[:, None]
    differences = {}
    for scale in (1.0, 3.0):
        generator = torch.Generator().manual_seed(0)
        samples = generate(
            _model("interpolation", scale), condition, 3, n_steps=4, generator=generator
        )
        differences[scale] = samples - baseline
    torch.testing.assert_close(differences[3.0], 3.0 * differences[1.0])
    assert float(differences[1.0].abs().max()) > 0


def test_the_loss_measures_differences_in_units_of_the_residual_scale():
    generator = torch.Generator().manual_seed(2)
    values = torch.randn(6, 2, 12, generator=generator)
    observed = torch.ones_like(values, dtype=torch.bool)
    given = torch.rand(values.shape, generator=generator) > 0.4
    losses = {}
    for scale in (1.0, 2.0):
        model = DiffusionModel(
            {"kind": "dilated_conv", "n_features": 2, "n_side": 0, "channels": 8},
            make_schedule("cosine", n_steps=50),
            "x0",
            "interpolation",
            scale,
        )  # zero-initialised output: the loss is the mean squared scaled difference
        with torch.no_grad():
            losses[scale] = float(
                model.loss(values, observed, given, None, torch.Generator().manual_seed(0))
            )
    assert losses[2.0] == pytest.approx(losses[1.0] / 4, rel=1e-5)


@pytest.mark.parametrize("bad", [0.0, -1.0, float("nan"), float("inf"), "1"])
def test_a_bad_residual_scale_is_refused(bad):
    with pytest.raises(ValueError, match="residual_scale"):
        _model("interpolation", bad)


def test_the_residual_scale_is_saved_and_old_configurations_load_with_one():
    model = _model("interpolation", 0.25)
    assert DiffusionModel.from_config(model.config()).residual_scale == 0.25
    config = model.config()
    del config["residual_scale"]
    assert DiffusionModel.from_config(config).residual_scale == 1.0
