import pytest
import torch

from sktime_diffusion.engine import Condition, DiffusionModel, generate, make_schedule
from sktime_diffusion.engine.baselines import baseline_fill, interpolate_given
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
