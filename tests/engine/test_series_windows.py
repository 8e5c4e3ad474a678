import numpy as np
import pytest
import torch

from sktime_diffusion._windows import scale_floor, sliding_windows, window_scaling
from sktime_diffusion.engine.series_windows import SeriesWindows

CPU = torch.device("cpu")


def _series(rng, n_timepoints, n_features=3, missing=0.1):
    values = rng.normal(size=(n_features, n_timepoints)) * 5 + 20
    values[rng.random(values.shape) < missing] = np.nan
    return values


def _everything(windows):
    return windows.take(torch.arange(len(windows)), CPU)


def _copied(series, length, stride=1):
    """Every window as a copy, the way training windows were cut before."""
    return np.concatenate([sliding_windows(z.T, length, stride) for z in series])


@pytest.mark.parametrize("stride", [1, 3])
def test_windows_cut_per_batch_equal_copies_of_every_window(stride):
    rng = np.random.default_rng(0)
    series = [_series(rng, 40), _series(rng, 17), _series(rng, 9)]
    windows = SeriesWindows(series, 12, stride=stride)
    values, observed, side = _everything(windows)
    copies = _copied(series, 12, stride)
    assert len(windows) == len(copies)
    np.testing.assert_array_equal(observed.numpy(), ~np.isnan(copies))
    expected = np.nan_to_num(copies).astype(np.float32)
    np.testing.assert_array_equal(values.numpy(), expected)
    assert side is None and values.dtype == torch.float32


def test_context_scaled_windows_equal_the_scaled_copies_bit_for_bit():
    rng = np.random.default_rng(1)
    series = [_series(rng, 60), _series(rng, 30)]
    floors = np.stack([scale_floor(z.T) for z in series])
    windows = SeriesWindows(series, 10, scaling_context=7, scale_floors=floors)
    values, _, _ = _everything(windows)
    expected = []
    for z, floor in zip(series, floors, strict=True):
        copies = sliding_windows(z.T, 10)
        context = np.zeros(copies.shape, dtype=bool)
        context[..., :7] = True
        expected.append(window_scaling(copies, context, floor).apply(copies))
    expected = np.nan_to_num(np.concatenate(expected)).astype(np.float32)
    np.testing.assert_array_equal(values.numpy(), expected)


def test_a_window_count_bound_sets_a_common_stride_and_windows_end_at_the_end():
    series = [np.arange(100.0).reshape(1, 100), np.arange(50.0).reshape(1, 50)]
    windows = SeriesWindows(series, 10, max_windows=20)
    # 91 + 41 possible windows, so a stride of 7 keeps 13 + 6
    assert len(windows) == 19
    values, _, _ = _everything(windows)
    assert values[12, 0, -1] == 99 and values[-1, 0, -1] == 49
    assert values[0, 0, 0] == 6 and values[13, 0, 0] == 5


def test_recent_keeps_the_last_windows_of_each_series():
    series = [np.arange(30.0).reshape(1, 30), np.arange(5.0).reshape(1, 5)]
    windows = SeriesWindows(series, 4, recent=2)
    values, _, _ = _everything(windows)
    expected = [[25, 26, 27, 28], [26, 27, 28, 29], [0, 1, 2, 3], [1, 2, 3, 4]]
    np.testing.assert_array_equal(values[:, 0].numpy(), expected)


def test_windows_without_an_observed_entry_are_left_out():
    values = np.arange(20.0).reshape(1, 20)
    values[0, 5:15] = np.nan
    windows = SeriesWindows([values], 5)
    cut, observed, _ = _everything(windows)
    # of the 16 windows, those starting at rows 5 to 10 see nothing
    assert len(windows) == 10
    assert observed.any(dim=(1, 2)).all()
    first_values = [float(v[o][0]) for v, o in zip(cut[:, 0], observed[:, 0], strict=True)]
    assert first_values == [0, 1, 2, 3, 4, 15, 15, 15, 15, 15]


def test_side_channels_are_cut_with_their_series():
    rng = np.random.default_rng(2)
    series = [_series(rng, 25, missing=0.0), _series(rng, 15, missing=0.0)]
    side = [rng.normal(size=(2, 25)), rng.normal(size=(2, 15))]
    windows = SeriesWindows(series, 6, side=side)
    _, _, cut = _everything(windows)
    np.testing.assert_array_equal(cut.numpy(), _copied(side, 6).astype(np.float32))


def test_the_series_are_kept_once_whatever_the_number_of_windows():
    series = np.random.default_rng(3).normal(size=(4, 10_000))
    windows = SeriesWindows([series], 200)
    copies_bytes = len(windows) * 4 * 200 * 4  # every window as float32
    assert windows.nbytes < 2 * series.nbytes
    assert windows.nbytes < copies_bytes / 50


def test_cutting_windows_leaves_the_callers_series_unchanged():
    series = _series(np.random.default_rng(4), 30)
    before = series.copy()
    floors = scale_floor(series.T)[None]
    windows = SeriesWindows([series], 8, scaling_context=5, scale_floors=floors)
    _everything(windows)
    np.testing.assert_array_equal(series, before)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"series": []}, "at least one series"),
        ({"series": [np.ones((2, 5)), np.ones((3, 5))]}, "same n_features"),
        ({"series": [np.full((1, 5), np.inf)]}, "finite"),
        ({"series": [np.full((1, 5), np.nan)]}, "at least one training window"),
        ({"series": [np.ones((1, 3))]}, "at least one training window"),
        ({"scaling_context": 2}, "needs scale_floors"),
        ({"side": [np.ones((1, 4))]}, "side channels"),
    ],
)
def test_bad_series_windows_raise_a_clear_error(kwargs, message):
    arguments = {"series": [np.ones((1, 5))], "length": 4, **kwargs}
    with pytest.raises(ValueError, match=message):
        SeriesWindows(**arguments)
