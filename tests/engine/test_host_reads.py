"""The hot loops neither read values back nor copy to the device per step on a GPU.

On a GPU, reading a value (``float(t)``, ``bool(t)``, ``t.item()``, ...) makes the host
wait for the device, and so does a blocking copy to it from ordinary host memory
(``t.to(device)``, ``torch.tensor(..., device=device)``). These tests count such calls
made by the package's own code while sampling and training on the CPU; for training,
the policy of a GPU (:func:`~sktime_diffusion.engine.device.host_waits_to_read` true) is
switched on, since the CPU keeps reading at every step where that costs nothing.
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


def _names_a_device(args, kwargs) -> bool:
    named = list(args[1:]) + [kwargs.get("device")]
    return any(isinstance(arg, torch.device | str) for arg in named if arg is not None)


def _is_transfer(func, args, kwargs) -> bool:
    """A call that would copy to a GPU from the host: a move to a named device, or a
    tensor made from Python values on one (a no-op on the CPU, counted all the same)."""
    if func is torch.Tensor.to:
        return _names_a_device(args, kwargs)
    if func in (torch.tensor, torch.as_tensor):
        return kwargs.get("device") is not None
    return False


class _PackageReads(TorchFunctionMode):
    """Counts reads of tensor values and copies to a named device from package code."""

    def __init__(self):
        super().__init__()
        self.count = 0

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        if func in READS or _is_transfer(func, args, kwargs):
            caller = next(
                frame
                for frame in reversed(traceback.extract_stack()[:-1])
                if "torch" not in frame.filename.replace("\\", "/").split("/")[-2:-1]
                and not frame.filename.endswith("test_host_reads.py")
            )
            in_package = "sktime_diffusion" in caller.filename.replace("\\", "/").split("/")
            # to_device copies from the host through pinned memory without blocking
            if in_package and caller.name != "to_device":
                self.count += 1
        return func(*args, **kwargs)


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

    sample(4)()  # the first call copies the schedule's grid to the device, once
    assert _reads_of(sample(4)) == _reads_of(sample(12))


def _on_a_gpu(monkeypatch):
    monkeypatch.setattr(training, "host_waits_to_read", lambda device: True)
    monkeypatch.setattr(masks_module, "host_waits_to_read", lambda device: True)


def test_training_with_the_gpu_policy_reads_no_value_back_per_step(monkeypatch):
    _on_a_gpu(monkeypatch)

    def fit(steps):
        config = TrainingConfig(epochs=100, max_steps=steps, batch_size=50, seed=1)
        return lambda: train_model(_model(), _windows(), MASKS, config)

    fit(4)()  # the first fit copies constants (mask weights, the grid) to the device
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


@pytest.mark.parametrize("gpu_policy", [False, True])
def test_one_process_sees_a_spent_time_budget_at_the_next_step(monkeypatch, gpu_policy):
    # (several processes agree on it every HOST_CHECK_EVERY steps on a GPU)
    if gpu_policy:
        _on_a_gpu(monkeypatch)
    config = TrainingConfig(epochs=1000, batch_size=50, seed=1, max_time=1e-9)
    history = train_model(_model(), _windows(), MASKS, config)
    assert history.stopped_by == "max_time"
    assert history.n_steps == 1
