import pytest
import torch

import sktime_diffusion.engine.training as training
from sktime_diffusion.engine import (
    DiffusionModel,
    MaskStrategy,
    TrainingConfig,
    WindowData,
    make_schedule,
    train_model,
)
from sktime_diffusion.engine.checkpoints import save_checkpoint
from sktime_diffusion.networks import DilatedConvNetwork

MASKS = MaskStrategy(random=0.5, suffix=0.5)


def _model():
    with torch.random.fork_rng():
        torch.manual_seed(0)
        config = DilatedConvNetwork(channels=8, n_layers=2).network_config(2, 0)
        return DiffusionModel(config, make_schedule("cosine", n_steps=50))


def _data(seed=1):
    values = torch.randn(45, 2, 12, generator=torch.Generator().manual_seed(seed))
    return WindowData(values, torch.ones_like(values, dtype=torch.bool))


def _config(path, **changes):
    settings = {
        "epochs": 4,
        "batch_size": 8,
        "learning_rate": 1e-2,
        "validation_fraction": 0.2,
        "seed": 3,
        "checkpoint": path,
        "checkpoint_every": 2,
    }
    return TrainingConfig(**(settings | changes))


def _interrupted_after(monkeypatch, calls, function="_update_ema"):
    """Raise KeyboardInterrupt (as Ctrl-C would) after ``calls`` calls of ``function``.

    The loop calls ``_update_ema`` once a step, ``_validation_loss`` once an epoch.
    """
    made = {"n": 0}
    original = getattr(training, function)

    def interrupting(*args, **kwargs):
        made["n"] += 1
        if made["n"] > calls:
            raise KeyboardInterrupt
        return original(*args, **kwargs)

    monkeypatch.setattr(training, function, interrupting)


# 36 training windows in batches of 8: 5 steps an epoch, 20 in all; checkpoints every
# 2 steps, so the breaks fall after a checkpoint (4), one step later (3, 17) and after
# the checkpoint of an epoch's last step (10)
@pytest.mark.parametrize("interrupt_after", [3, 4, 10, 17])
def test_an_interrupted_fit_resumes_to_the_weights_of_an_unbroken_one(
    tmp_path, monkeypatch, interrupt_after
):
    unbroken = _model()
    expected = train_model(unbroken, _data(), MASKS, _config(tmp_path / "unbroken.pt"))
    path = tmp_path / "run.pt"
    with monkeypatch.context() as patch:
        _interrupted_after(patch, interrupt_after)
        with pytest.raises(KeyboardInterrupt):
            train_model(_model(), _data(), MASKS, _config(path))
    assert path.exists()
    resumed_model = _model()
    steps_taken = {"n": 0}
    update = training._update_ema

    def counting(*args, **kwargs):
        steps_taken["n"] += 1
        update(*args, **kwargs)

    monkeypatch.setattr(training, "_update_ema", counting)
    history = train_model(resumed_model, _data(), MASKS, _config(path))
    # only the steps after the last checkpoint are trained again
    assert steps_taken["n"] == 20 - 2 * (interrupt_after // 2)
    for name, value in unbroken.state_dict().items():
        assert torch.equal(value, resumed_model.state_dict()[name]), name
    assert history.train_loss == expected.train_loss
    assert history.validation_loss == expected.validation_loss
    assert history.n_steps == expected.n_steps == 20
    assert not path.exists()  # a finished run removes its checkpoint


def test_a_checkpoint_of_another_run_is_refused(tmp_path, monkeypatch):
    path = tmp_path / "run.pt"
    with monkeypatch.context() as patch:
        _interrupted_after(patch, 5)
        with pytest.raises(KeyboardInterrupt):
            train_model(_model(), _data(), MASKS, _config(path))
    with pytest.raises(ValueError, match="another training run"):
        train_model(_model(), _data(seed=2), MASKS, _config(path))
    with pytest.raises(ValueError, match="another training run"):
        train_model(_model(), _data(), MASKS, _config(path, learning_rate=2e-2))


def test_weights_that_are_not_finite_are_never_written(tmp_path):
    state = {"model": {"weight": torch.tensor([1.0, float("nan")])}}
    with pytest.raises(FloatingPointError, match="not finite"):
        save_checkpoint(tmp_path / "bad.pt", state)
    assert not (tmp_path / "bad.pt").exists()


def test_a_run_that_stops_at_max_steps_resumes_to_the_same_stop(tmp_path, monkeypatch):
    unbroken = _model()
    config = _config(tmp_path / "unbroken.pt", max_steps=8, epochs=10)
    expected = train_model(unbroken, _data(), MASKS, config)
    path = tmp_path / "run.pt"
    with monkeypatch.context() as patch:
        # the 8th step ends the second epoch early; break in its validation
        _interrupted_after(patch, 1, function="_validation_loss")
        with pytest.raises(KeyboardInterrupt):
            train_model(_model(), _data(), MASKS, _config(path, max_steps=8, epochs=10))
    resumed_model = _model()
    history = train_model(
        resumed_model, _data(), MASKS, _config(path, max_steps=8, epochs=10)
    )
    assert history.n_steps == expected.n_steps == 8
    assert history.stopped_by == expected.stopped_by == "max_steps"
    assert history.train_loss == expected.train_loss
    for name, value in unbroken.state_dict().items():
        assert torch.equal(value, resumed_model.state_dict()[name]), name


def test_an_interrupted_forecaster_fit_resumes_to_the_same_forecasts(tmp_path, monkeypatch):
    import numpy as np
    import pandas as pd

    from sktime_diffusion import DiffusionForecaster

    y = pd.Series(np.sin(np.arange(80) / 3.0) + np.arange(80) / 40.0)
    settings = {
        "network": DilatedConvNetwork(channels=8, n_layers=2, time_embedding_dim=16),
        "training_steps": 250,
        "n_samples": 4,
        "n_sampling_steps": 3,
        "random_state": 0,
    }
    unbroken = DiffusionForecaster(**settings).fit(y, fh=[1, 2])
    forecaster = DiffusionForecaster(**settings, checkpoint_dir=str(tmp_path))
    with monkeypatch.context() as patch:
        _interrupted_after(patch, 150)
        with pytest.raises(KeyboardInterrupt):
            forecaster.fit(y, fh=[1, 2])
    assert len(list(tmp_path.glob("DiffusionForecaster-*.pt"))) == 1
    forecaster.fit(y, fh=[1, 2])
    assert forecaster.training_history_.n_steps == 250
    pd.testing.assert_frame_equal(
        forecaster.predict_quantiles(alpha=[0.1, 0.9]),
        unbroken.predict_quantiles(alpha=[0.1, 0.9]),
    )
    assert not list(tmp_path.glob("*.pt"))
