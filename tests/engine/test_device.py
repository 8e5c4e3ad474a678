import pytest
import torch

from sktime_diffusion.engine import resolve_device


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
