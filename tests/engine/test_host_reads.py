"""The hot loops read no tensor value back to the host per step where that waits.

On a GPU, reading a value (``float(t)``, ``bool(t)``, ``t.item()``, ...) makes the host
wait for the device. These tests count such reads made by the package's own code
while sampling and training on the CPU; for training, the policy of a GPU
(:func:`~sktime_diffusion.engine.device.host_waits_to_read` true) is switched on, since
the CPU keeps reading at every step where that costs nothing.
"""

import traceback

import pytest
import torch
from torch.overrides import TorchFunctionMode

import sktime_diffusion.engine.masks as masks_module
import sktime_diffusion.engine.training as training
from sktime_diffusion.engine import (
    SAMPLERS,
    Condition,
    DiffusionModel,
    MaskStrategy,
    TrainingConfig,
    WindowData,
    generate,
    make_schedule,
    train_model,
)
from sktime_diffusion.engine.device import host_waits_to_read
from sktime_diffusion.networks import DilatedConvNetwork

READS = {
    torch.Tensor.item,
    torch.Tensor.__bool__,
    torch.Tensor.__float__,
    torch.Tensor.__int__,
    torch.Tensor.__index__,
    torch.Tensor.tolist,
    torch.Tensor.numpy,
}
MASKS = MaskStrategy(random=0.4, suffix=0.3, block=0.3)


class _PackageReads(TorchFunctionMode):
    """Counts reads of tensor values called from ``sktime_diffusion``'s own code."""

    def __init__(self):
        super().__init__()
        self.count = 0

    def __torch_function__(self, func, types, args=(), kwargs=None):
        if func in READS:
            caller = next(
                frame
                for frame in reversed(traceback.extract_stack()[:-1])
                if "torch" not in frame.filename.replace("\\", "/").split("/")[-2:-1]
                and not frame.filename.endswith("test_host_reads.py")
            )
            if "sktime_diffusion" in caller.filename.replace("\\", "/").split("/"):
                self.count += 1
        return func(*args, **(kwargs or {}))


def _model():
    with torch.random.fork_rng():
        torch.manual_seed(0)
        config = DilatedConvNetwork(channels=8, n_layers=2).network_config(2, 0)
        return DiffusionModel(config, make_schedule("cosine", n_steps=50))


def _windows():
    values = torch.randn(200, 2, 12, generator=torch.Generator().manual_seed(1))
    return WindowData(values, torch.ones_like(values, dtype=torch.bool))


def _reads_of(run) -> int:
    mode = _PackageReads()
    with mode:
        run()
    return mode.count


def test_reads_on_the_cpu_are_free_and_on_a_gpu_wait():
    assert not host_waits_to_read(torch.device("cpu"))
    assert host_waits_to_read(torch.device("cuda"))
    assert host_waits_to_read(torch.device("meta"))


@pytest.mark.parametrize("sampler", sorted(SAMPLERS))
def test_sampling_reads_no_value_back_per_step(sampler):
    model = _model()
    values = torch.randn(3, 2, 12, generator=torch.Generator().manual_seed(2))
    given = torch.zeros_like(values, dtype=torch.bool)
    given[:, :, :6] = True
    options = {"eta": 0.5} if sampler == "ddim" else {}

    def sample(n_steps):
        generator = torch.Generator().manual_seed(0)
        condition = Condition(values, given)
        return lambda: generate(
            model,
            condition,
            2,
            sampler=sampler,
            n_steps=n_steps,
            generator=generator,
            **options,
        )

    assert _reads_of(sample(4)) == _reads_of(sample(12))


def _on_a_gpu(monkeypatch):
    monkeypatch.setattr(training, "host_waits_to_read", lambda device: True)
    monkeypatch.setattr(masks_module, "host_waits_to_read", lambda device: True)


def test_training_with_the_gpu_policy_reads_no_value_back_per_step(monkeypatch):
    _on_a_gpu(monkeypatch)

    def fit(steps):
        config = TrainingConfig(epochs=100, max_steps=steps, batch_size=50, seed=1)
        return lambda: train_model(_model(), _windows(), MASKS, config)

    assert _reads_of(fit(4)) == _reads_of(fit(16))


def test_training_with_the_gpu_policy_reads_its_losses_at_the_end(monkeypatch):
    _on_a_gpu(monkeypatch)
    model = _model()
    config = TrainingConfig(epochs=3, batch_size=50, seed=1, validation_fraction=0.2)
    history = train_model(model, _windows(), MASKS, config)
    assert len(history.train_loss) == len(history.validation_loss) == 3
    assert all(type(loss) is float and loss > 0 for loss in history.train_loss)
    assert all(type(loss) is float and loss > 0 for loss in history.validation_loss)


def _loss_not_finite_at(monkeypatch, bad_step):
    calls = {"n": 0}
    original = DiffusionModel.loss

    def loss(self, *args, **kwargs):
        value = original(self, *args, **kwargs)
        calls["n"] += 1
        return value * float("nan") if calls["n"] == bad_step + 1 else value

    monkeypatch.setattr(DiffusionModel, "loss", loss)


@pytest.mark.parametrize("gpu_policy", [False, True])
def test_a_loss_that_is_not_finite_stops_training_naming_its_step(monkeypatch, gpu_policy):
    if gpu_policy:
        _on_a_gpu(monkeypatch)
    _loss_not_finite_at(monkeypatch, bad_step=3)
    model = _model()
    config = TrainingConfig(epochs=100, max_steps=12, batch_size=50, seed=1)
    with pytest.raises(FloatingPointError, match="became nan at step 3;"):
        train_model(model, _windows(), MASKS, config)
    if not gpu_policy:  # checked before the step's update: the weights stay finite
        assert all(torch.isfinite(value).all() for value in model.state_dict().values())


@pytest.mark.parametrize("fits", [False, True])
def test_training_moves_its_windows_to_the_device_once_where_they_fit(monkeypatch, fits):
    moves = []
    monkeypatch.setattr(training, "keeps_on_device", lambda nbytes, device: fits)
    original = WindowData.to

    def to(self, device):
        moves.append(device)
        return original(self, device)

    monkeypatch.setattr(WindowData, "to", to)
    config = TrainingConfig(epochs=2, batch_size=50, seed=1)
    train_model(_model(), _windows(), MASKS, config)
    assert moves == ([torch.device("cpu")] if fits else [])


@pytest.mark.parametrize(
    "gpu_policy, steps", [(False, 1), (True, training.LOSS_CHECK_EVERY)]
)
def test_a_spent_time_budget_is_seen_at_the_next_check(monkeypatch, gpu_policy, steps):
    if gpu_policy:
        _on_a_gpu(monkeypatch)
    config = TrainingConfig(epochs=1000, batch_size=50, seed=1, max_time=1e-9)
    history = train_model(_model(), _windows(), MASKS, config)
    assert history.stopped_by == "max_time"
    assert history.n_steps == steps
