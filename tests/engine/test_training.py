import math
import time

import pytest
import torch

from sktime_diffusion.engine import (
    Condition,
    DiffusionModel,
    MaskStrategy,
    TrainingConfig,
    WindowData,
    generate,
    make_schedule,
    train_model,
)
from sktime_diffusion.engine.training import _jitter_levels, _learning_rate_factor
from sktime_diffusion.networks import CSDINetwork, DilatedConvNetwork


def _model(kind="dilated_conv", n_features=2, seed=0):
    if kind == "csdi":
        spec = CSDINetwork(n_heads=2, channels=16, n_layers=1)
    else:
        spec = DilatedConvNetwork(channels=16, n_layers=3)
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        return DiffusionModel(
            spec.network_config(n_features, 0),
            make_schedule("cosine", n_steps=50),
            "v",
        )


def _paired_windows(n=512, length=4, seed=0):
    """Feature 1 equals feature 0 plus small noise: E[x1 | x0] = x0."""
    generator = torch.Generator().manual_seed(seed)
    base = torch.randn(n, 1, length, generator=generator)
    follower = base + 0.1 * torch.randn(n, 1, length, generator=generator)
    values = torch.cat([base, follower], dim=1)
    return WindowData(values, torch.ones_like(values, dtype=torch.bool))


def _config(**kwargs):
    defaults = {"epochs": 3, "batch_size": 64, "learning_rate": 3e-3, "seed": 0}
    return TrainingConfig(**{**defaults, **kwargs})


@pytest.mark.slow
def test_training_lowers_the_loss_and_learns_a_conditional_mean():
    data = _paired_windows()
    model = _model()
    condition_values = torch.linspace(-1.5, 1.5, 8)[:, None, None].expand(8, 2, 4).clone()
    given = torch.zeros(8, 2, 4, dtype=torch.bool)
    given[:, 0] = True
    condition = Condition(condition_values, given)

    def conditional_error(m):
        samples = generate(
            m, condition, 32, n_steps=10, generator=torch.Generator().manual_seed(0)
        )
        return float((samples[:, :, 1].mean(1) - condition_values[:, 0]).abs().mean())

    before = conditional_error(model)
    history = train_model(model, data, MaskStrategy(random=1, block=1), _config(epochs=40))
    after = conditional_error(model)
    assert history.train_loss[-1] < 0.5 * history.train_loss[0]
    assert after < 0.35 * before, (before, after)
    assert after < 0.25


def test_training_is_reproducible_and_leaves_the_global_seed_alone():
    data = _paired_windows(n=128)
    torch.manual_seed(123)
    expected_next = torch.rand(1)
    torch.manual_seed(123)
    first, second = _model(), _model()
    h1 = train_model(first, data, MaskStrategy(), _config())
    h2 = train_model(second, data, MaskStrategy(), _config())
    assert h1.train_loss == h2.train_loss
    for a, b in zip(first.state_dict().values(), second.state_dict().values(), strict=True):
        assert torch.equal(a, b)
    assert torch.equal(torch.rand(1), expected_next)


def test_different_seeds_train_differently():
    data = _paired_windows(n=128)
    h1 = train_model(_model(), data, MaskStrategy(), _config(seed=0))
    h2 = train_model(_model(), data, MaskStrategy(), _config(seed=1))
    assert h1.train_loss != h2.train_loss


def test_max_time_stops_training():
    data = _paired_windows(n=256)
    started = time.perf_counter()
    history = train_model(
        _model(), data, MaskStrategy(), _config(epochs=10_000, max_time=1.0)
    )
    assert history.stopped_by == "max_time"
    assert time.perf_counter() - started < 5.0


def test_max_steps_stops_training_after_that_many_steps():
    history = train_model(
        _model(), _paired_windows(n=256), MaskStrategy(), _config(epochs=100, max_steps=7)
    )
    assert history.n_steps == 7 and history.stopped_by == "max_steps"


def test_early_stopping_uses_the_validation_split():
    data = _paired_windows(n=256)
    history = train_model(
        _model(),
        data,
        MaskStrategy(),
        _config(epochs=200, validation_fraction=0.25, patience=2, learning_rate=1e-2),
    )
    assert history.stopped_by == "early_stopping"
    assert len(history.validation_loss) == len(history.train_loss) < 200
    best = min(history.validation_loss)
    assert history.validation_loss[history.best_epoch] == best


def test_training_with_missing_values_uses_only_observed_entries():
    data = _paired_windows(n=128)
    observed = (
        torch.rand(data.values.shape, generator=torch.Generator().manual_seed(0)) > 0.3
    )
    values = data.values.clone()
    values[~observed] = float("nan")
    history = train_model(_model(), WindowData(values, observed), MaskStrategy(), _config())
    assert all(math.isfinite(v) for v in history.train_loss)


def test_level_jitter_shifts_each_window_and_feature_by_one_offset():
    values = torch.randn(16, 3, 10, generator=torch.Generator().manual_seed(0))
    observed = torch.rand(values.shape, generator=torch.Generator().manual_seed(1)) > 0.2
    values = torch.where(observed, values, torch.zeros_like(values))
    shifted = _jitter_levels(values, observed, 0.5, torch.Generator().manual_seed(2))
    offsets = shifted - values
    assert torch.all(offsets[~observed] == 0)  # unobserved entries stay zero
    per_row = torch.where(observed, offsets, torch.nan)
    spread = per_row.nan_to_num(0).amax(-1) - per_row.nan_to_num(0).amin(-1)
    rows_fully_observed = observed.all(-1)
    assert torch.allclose(spread[rows_fully_observed], torch.zeros(()), atol=1e-6)
    first = offsets[..., 0][observed[..., 0]]
    assert 0.3 < float(first.std()) < 0.7  # drawn with the requested spread
    assert _jitter_levels(values, observed, 0.0, None) is values


def test_level_jitter_changes_training_and_stays_reproducible():
    data = _paired_windows(n=128)

    def trained(jitter):
        model = _model()
        train_model(model, data, MaskStrategy(), _config(epochs=1, level_jitter=jitter))
        return torch.cat([p.detach().flatten() for p in model.parameters()])

    assert torch.equal(trained(0.3), trained(0.3))
    assert not torch.equal(trained(0.3), trained(0.0))


def test_given_scale_floor_trains_on_windows_standardised_by_their_given_entries():
    # with the backbone's scaling a window and any affine copy of it (its floor moved
    # along, as a floor in units of the series' spread is) are the same training
    # example: the runs are identical
    data = _paired_windows(n=128, length=8)
    moved = WindowData(40.0 * data.values - 7.0, data.observed)

    def trained(windows, floor):
        model = _model()
        history = train_model(
            model,
            windows,
            MaskStrategy(random=0.0, suffix=1.0),  # every feature is given a part
            _config(epochs=1, given_scale_floor=floor),
        )
        return history.train_loss, torch.cat([p.flatten() for p in model.parameters()])

    loss, weights = trained(data, 0.1)
    moved_loss, moved_weights = trained(moved, 40.0 * 0.1)
    assert moved_loss == pytest.approx(loss, rel=1e-4)
    torch.testing.assert_close(moved_weights, weights, rtol=1e-3, atol=1e-5)
    unscaled_loss, _ = trained(moved, None)
    assert unscaled_loss[0] > 10 * loss[0]


def test_verbose_shows_a_progress_bar(capsys):
    train_model(
        _model(), _paired_windows(n=64), MaskStrategy(), _config(epochs=2, verbose=True)
    )
    assert "training" in capsys.readouterr().err


def test_learning_rate_warms_up_then_decays_to_a_tenth():
    assert _learning_rate_factor(0.0, 0.1) < 0.01
    assert _learning_rate_factor(0.1, 0.1) == pytest.approx(1.0)
    assert _learning_rate_factor(1.0, 0.1) == pytest.approx(0.1)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"epochs": 0}, "epochs"),
        ({"max_time": 0}, "max_time"),
        ({"max_steps": 0}, "max_steps"),
        ({"batch_size": 0}, "batch_size"),
        ({"learning_rate": -1}, "learning_rate"),
        ({"validation_fraction": 1.0}, "validation_fraction"),
        ({"ema_decay": 1.0}, "ema_decay"),
        ({"patience": 0}, "patience"),
        ({"level_jitter": -0.1}, "level_jitter"),
        ({"level_jitter": math.inf}, "level_jitter"),
        ({"given_scale_floor": 0.0}, "given_scale_floor"),
        ({"given_scale_floor": math.inf}, "given_scale_floor"),
    ],
)
def test_bad_training_settings_are_named(kwargs, message):
    with pytest.raises(ValueError, match=message):
        TrainingConfig(**kwargs)


def test_bad_training_windows_are_named():
    with pytest.raises(ValueError, match="shape"):
        WindowData(torch.zeros(4, 5), torch.ones(4, 5, dtype=torch.bool))
    with pytest.raises(ValueError, match="no observed"):
        WindowData(torch.zeros(1, 2, 3), torch.zeros(1, 2, 3, dtype=torch.bool))
    with pytest.raises(ValueError, match="finite"):
        WindowData(
            torch.full((1, 2, 3), float("inf")), torch.ones(1, 2, 3, dtype=torch.bool)
        )
