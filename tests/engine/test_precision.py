"""bfloat16 mixed precision: the network alone runs in bfloat16, inside the block only."""

import pytest
import torch

from sktime_diffusion.engine import (
    Condition,
    DiffusionModel,
    generate,
    make_schedule,
    network_precision,
)
from sktime_diffusion.engine.precision import check_precision
from sktime_diffusion.networks import CSDINetwork, DilatedConvNetwork


def _model(spec=None, channel_independent=False):
    spec = spec or DilatedConvNetwork(channels=8, n_layers=2)
    n_features = 1 if channel_independent else 2
    with torch.random.fork_rng():
        torch.manual_seed(0)
        return DiffusionModel(
            spec.network_config(n_features, 0),
            make_schedule("cosine", n_steps=50),
            channel_independent=channel_independent,
        )


def _record_layer_dtypes(model):
    """Output dtypes of the network's convolutions and linear layers, as they run."""
    seen = []
    for layer in model.network.modules():
        if isinstance(layer, torch.nn.Conv1d | torch.nn.Linear):
            layer.register_forward_hook(lambda _, __, out: seen.append(out.dtype))
    return seen


def _windows():
    values = torch.randn(4, 2, 12, generator=torch.Generator().manual_seed(1))
    given = torch.zeros_like(values, dtype=torch.bool)
    given[:, :, :6] = True
    return values, given


@pytest.mark.parametrize(
    "spec",
    [DilatedConvNetwork(channels=8, n_layers=2), CSDINetwork(channels=8, n_layers=1)],
)
def test_the_loss_runs_the_network_in_bfloat16_only_inside_the_block(spec):
    model = _model(spec)
    seen = _record_layer_dtypes(model)
    values, given = _windows()
    observed = torch.ones_like(given)
    with network_precision("bfloat16"):
        loss = model.loss(
            values, observed, given, generator=torch.Generator().manual_seed(0)
        )
    assert seen and set(seen) == {torch.bfloat16}
    assert loss.dtype == torch.float32 and torch.isfinite(loss)
    seen.clear()
    model.loss(values, observed, given, generator=torch.Generator().manual_seed(0))
    assert seen and set(seen) == {torch.float32}


@pytest.mark.parametrize("channel_independent", [False, True])
def test_bfloat16_samples_are_float32_keep_the_given_entries_and_stay_close(
    channel_independent,
):
    model = _model(channel_independent=channel_independent)
    with torch.no_grad():  # the output layer starts at zero: give every weight a value
        generator = torch.Generator().manual_seed(3)
        for weight in model.parameters():
            weight.copy_(0.3 * torch.randn(weight.shape, generator=generator))
    values, given = _windows()
    if channel_independent:
        values, given = values[:, :1], given[:, :1]
    seen = _record_layer_dtypes(model)

    def draw():
        return generate(
            model, Condition(values, given), 3, generator=torch.Generator().manual_seed(0)
        )

    full = draw()
    with network_precision("bfloat16"):
        mixed = draw()
    assert torch.bfloat16 in seen
    assert mixed.dtype == torch.float32
    assert torch.equal(mixed[:, :, given[0]], full[:, :, given[0]])
    # bfloat16 keeps 8 bits of mantissa: the samples move a little
    spread = full[:, :, ~given[0]].std()
    assert (mixed - full).abs().max() < 0.1 * spread
    assert not torch.equal(mixed, full)


def test_the_precision_is_restored_after_an_error_in_the_block():
    model = _model()
    seen = _record_layer_dtypes(model)
    values, given = _windows()
    with pytest.raises(RuntimeError, match="inside"):
        with network_precision("bfloat16"):
            raise RuntimeError("inside")
    model.loss(values, torch.ones_like(given), given)
    assert set(seen) == {torch.float32}


@pytest.mark.parametrize("precision", ["float16", "bf16", None, 16])
def test_unknown_precisions_are_named(precision):
    with pytest.raises(ValueError, match="precision must be one of"):
        check_precision(precision, torch.device("cpu"), "DiffusionForecaster")


@pytest.mark.parametrize(
    "capability, fine", [((7, 5), False), ((8, 0), True), ((9, 0), True)]
)
def test_bfloat16_on_a_gpu_without_its_units_is_a_clear_error(
    monkeypatch, capability, fine
):
    # torch.cuda.is_bf16_supported() says yes on a T4 (7.5), where it is emulated
    monkeypatch.setattr(torch.version, "hip", None)
    monkeypatch.setattr(torch.cuda, "get_device_capability", lambda device: capability)
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda device: "a GPU")
    if fine:
        assert check_precision("bfloat16", torch.device("cuda")) == "bfloat16"
    else:
        with pytest.raises(ValueError, match="a GPU has no bfloat16 units"):
            check_precision("bfloat16", torch.device("cuda"))
    assert check_precision("float32", torch.device("cuda")) == "float32"


def test_an_unknown_precision_block_is_named():
    with pytest.raises(ValueError, match="network_precision: precision must be one of"):
        with network_precision("float16"):
            pass
