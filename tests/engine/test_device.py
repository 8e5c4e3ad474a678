import numpy as np
import pytest
import torch

from sktime_diffusion.engine import SeriesWindows, WindowData, resolve_device
from sktime_diffusion.engine.device import RESIDENT_SHARE, keeps_on_device, to_device


def test_auto_picks_cpu_without_a_gpu(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert resolve_device("auto") == torch.device("cpu")
    assert resolve_device(None) == torch.device("cpu")


def test_auto_picks_cuda_when_torch_sees_one(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert resolve_device("auto") == torch.device("cuda")


def test_auto_under_torchrun_picks_the_gpu_of_the_local_rank(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 4)
    monkeypatch.setenv("LOCAL_RANK", "2")
    assert resolve_device("auto") == torch.device("cuda", 2)
    monkeypatch.delenv("LOCAL_RANK")
    assert resolve_device("auto") == torch.device("cuda")


def test_cuda_without_a_gpu_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(ValueError, match="no CUDA GPU"):
        resolve_device("cuda")


def test_cuda_index_beyond_the_visible_gpus_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    with pytest.raises(ValueError, match="only 1 CUDA"):
        resolve_device("cuda:3")
    assert resolve_device("cuda:0") == torch.device("cuda:0")


@pytest.mark.parametrize("name", ["gpu", "mps", "tpu:0", 3.5])
def test_unknown_devices_are_named(name):
    with pytest.raises(ValueError, match="device must be"):
        resolve_device(name)


def test_a_model_can_run_on_a_missing_gpu_only_on_the_cpu_with_a_warning(monkeypatch):
    from sktime_diffusion.engine import sampling_device

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.warns(UserWarning, match="not available on this machine"):
        assert sampling_device("cuda:0") == torch.device("cpu")
    assert sampling_device("auto") == torch.device("cpu")
    with pytest.raises(ValueError, match="device must be"):
        sampling_device("tpu")


def test_pickle_remembers_the_device_and_loads_on_the_cpu_where_it_is_missing(
    monkeypatch,
):
    from sktime_diffusion.engine import DiffusionModel, make_schedule
    from sktime_diffusion.networks import DilatedConvNetwork

    config = DilatedConvNetwork(channels=4, n_layers=1).network_config(1, 0)
    model = DiffusionModel(config, make_schedule("cosine", n_steps=10), "v")
    load, (payload, training, device) = model.__reduce__()
    assert device == "cpu"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.warns(UserWarning, match="runs on the CPU"):
        restored = load(payload, training, "cuda:0")  # as pickled on a GPU machine
    assert restored.device == torch.device("cpu")


def test_a_copy_from_the_cpu_to_a_gpu_is_pinned_and_does_not_block(monkeypatch):
    made = []
    to = torch.Tensor.to

    def pin_memory(self):
        made.append("pin")
        return self

    def fake_to(self, *args, **kwargs):
        if args and isinstance(args[0], torch.device) and args[0].type == "cuda":
            made.append(("to cuda", kwargs.get("non_blocking", False)))
            return self
        return to(self, *args, **kwargs)

    monkeypatch.setattr(torch.Tensor, "pin_memory", pin_memory)
    monkeypatch.setattr(torch.Tensor, "to", fake_to)
    values = torch.arange(6.0, dtype=torch.float64)
    moved = to_device(values, torch.device("cuda"), torch.float32)
    assert made == ["pin", ("to cuda", True)]
    assert moved.dtype == torch.float32
    made.clear()
    on_cpu = to_device(values, torch.device("cpu"), torch.float32)
    assert made == [] and torch.equal(on_cpu, values.to(torch.float32))


def test_training_data_stay_on_a_gpu_only_where_a_share_of_its_free_memory_holds_them():
    free = 1_000_000
    most = int(RESIDENT_SHARE * free)
    assert keeps_on_device(most, torch.device("cuda"), free_bytes=free)
    assert not keeps_on_device(most + 1, torch.device("cuda"), free_bytes=free)
    assert not keeps_on_device(1, torch.device("cpu"), free_bytes=free)


def _series_windows():
    rng = np.random.default_rng(0)
    series = [rng.normal(size=(2, 30)), rng.normal(size=(2, 25))]
    series[0][1, 4] = np.nan
    side = [rng.normal(size=(1, 30)), rng.normal(size=(1, 25))]
    return SeriesWindows(
        series, length=8, side=side, scaling_context=5, scale_floors=np.full((2, 2), 0.1)
    )


@pytest.mark.parametrize("kind", ["series", "copies"])
def test_windows_moved_to_a_device_are_cut_there_from_every_table(kind):
    # the meta device holds shapes only and refuses to mix with CPU tensors, so a
    # table left behind on the CPU fails the cut
    windows = _series_windows()
    if kind == "copies":
        values, observed, side = windows.take(torch.arange(len(windows)), "cpu")
        windows = WindowData(values, observed, side)
    meta = torch.device("meta")
    on_meta = windows.to(meta)
    values, observed, side = on_meta.take(torch.tensor([0, 3, 5]), meta)
    assert values.device == observed.device == side.device == meta
    assert tuple(values.shape) == (3, 2, 8) and tuple(side.shape) == (3, 1, 8)
    expected = windows.take(torch.tensor([0, 3, 5]), torch.device("cpu"))
    again = windows.to(torch.device("cpu")).take(torch.tensor([0, 3, 5]), "cpu")
    for held, moved in zip(expected, again, strict=True):
        assert torch.equal(held, moved)
    assert on_meta.nbytes == windows.nbytes
