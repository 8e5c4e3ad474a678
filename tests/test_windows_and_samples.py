import numpy as np
import pandas as pd
import pytest

from sktime_diffusion._series import (
    check_frame,
    split_series,
    time_frequency,
)
from sktime_diffusion._windows import (
    daily_period,
    default_window_length,
    scale_floor,
    sliding_windows,
    window_scaling,
)
from sktime_diffusion.samples import SamplePaths, empirical_quantile_positions


def test_sliding_windows_end_at_the_last_row():
    values = np.arange(10.0).reshape(10, 1)
    windows = sliding_windows(values, 4, stride=3)
    assert windows.shape == (3, 1, 4)
    np.testing.assert_array_equal(windows[-1, 0], [6, 7, 8, 9])
    assert sliding_windows(values, 11).shape == (0, 1, 11)


@pytest.mark.parametrize(
    ("freq", "period", "window"),
    [("5min", 288, 96), ("30min", 48, 96), ("h", 24, 48), ("D", 1, 16), ("MS", 1, 24)],
)
def test_default_window_spans_two_periods_and_a_day_is_the_period_of_sub_hourly_data(
    freq, period, window
):
    index = pd.date_range("2020-01-01", periods=500, freq=freq)
    assert daily_period(index) == period
    assert default_window_length(index, longest=500) == window
    assert default_window_length(index, longest=40) == min(window, 40)


@pytest.mark.parametrize("unit", ["ns", "us", "s"])
def test_a_datetime_index_without_frequency_uses_its_median_step(unit):
    # 5-minute stamps with a few missing, as in NAB's files: no freq, still a day period
    index = pd.date_range("2020-01-01", periods=500, freq="5min").delete([3, 7, 100])
    index = index.as_unit(unit)  # pandas 3 reads timestamps at microseconds
    assert index.freq is None
    assert daily_period(index) == 288
    assert default_window_length(index, longest=500) == 96
    assert default_window_length(pd.RangeIndex(500), longest=500) == 32


def test_split_series_keeps_panel_order_and_keys():
    index = pd.MultiIndex.from_product([["b", "a"], range(3)], names=["id", "t"])
    frame = pd.DataFrame({"x": np.arange(6.0)}, index=index)
    instances = split_series(frame)
    assert [p.key for p in instances] == [("b",), ("a",)]
    np.testing.assert_array_equal(instances[1].values[:, 0], [3, 4, 5])


def test_window_scaling_round_trips_and_uses_the_reference_only():
    rng = np.random.default_rng(0)
    windows = rng.normal(5, 2, size=(4, 2, 10))
    reference = np.zeros_like(windows, dtype=bool)
    reference[..., :6] = True
    scaling = window_scaling(windows, reference)
    scaled = scaling.apply(windows)
    np.testing.assert_allclose(scaled[..., :6].mean(axis=-1), 0, atol=1e-12)
    np.testing.assert_allclose(scaling.invert(scaled), windows)


def test_constant_window_gets_a_tiny_scale_and_a_flat_one_the_series_floor():
    constant = np.full((1, 1, 8), 7.0)
    scaling = window_scaling(constant, np.ones_like(constant, dtype=bool))
    assert scaling.scale[0, 0, 0] == pytest.approx(7e-6)
    series = np.concatenate([np.zeros(50), np.ones(50)])[:, None]
    floor = scale_floor(series)
    scaling = window_scaling(np.zeros((1, 1, 8)), np.ones((1, 1, 8), dtype=bool), floor)
    assert scaling.scale[0, 0, 0] == pytest.approx(0.05)


def test_check_frame_names_bad_columns():
    with pytest.raises(ValueError, match="column.*b"):
        check_frame(pd.DataFrame({"a": [1.0, 2.0], "b": [np.inf, 1.0]}), "Test")
    with pytest.raises(ValueError, match="NaN"):
        check_frame(pd.DataFrame({"a": [1.0, np.nan]}), "Test", allow_missing=False)


def _panel_of(indices: dict) -> pd.DataFrame:
    return pd.concat(
        {
            key: pd.DataFrame({"v": np.arange(len(i), dtype=float)}, index=i)
            for key, i in indices.items()
        }
    )


def test_a_panels_frequency_is_found_for_series_of_unequal_length():
    daily = _panel_of(
        {
            "a": pd.date_range("2020-01-01", periods=10),
            "b": pd.date_range("2020-01-04", periods=4),
        }
    )
    assert time_frequency(daily) == pd.offsets.Day()
    monthly = _panel_of(
        {
            "a": pd.date_range("2020-01", periods=10, freq="MS"),
            "b": pd.date_range("2020-03", periods=4, freq="MS"),
        }
    )
    assert time_frequency(monthly) == pd.offsets.MonthBegin()


@pytest.mark.parametrize(
    "other",
    [
        pd.date_range("2020-01-03 12:00", periods=4, freq="D"),  # another phase
        pd.date_range("2020-01-03", periods=4, freq="h"),  # another frequency
        pd.DatetimeIndex(["2020-01-03", "2020-01-04", "2020-01-07"]),  # missing steps
    ],
)
def test_a_series_off_the_panels_frequency_is_named(other):
    panel = _panel_of({"a": pd.date_range("2020-01-01", periods=10), "b": other})
    with pytest.raises(ValueError, match="series 'b' are not regular at the frequency D"):
        check_frame(panel, "Test", regular=True)


def test_time_zone_aware_steps_count_in_wall_time_across_daylight_saving():
    stamps = pd.date_range("2021-03-20", periods=20, freq="D", tz="Europe/Berlin")
    assert time_frequency(pd.Series(1.0, stamps)) == pd.offsets.Day()
    panel = _panel_of({"a": stamps, "b": stamps[:12]})
    assert time_frequency(panel) == pd.offsets.Day()


def test_checks_of_a_panel_of_1000_series_take_a_fraction_of_a_second():
    import time

    index = pd.MultiIndex.from_product(
        [[f"s{i}" for i in range(1000)], pd.date_range("2020", periods=100, freq="D")]
    )
    panel = pd.DataFrame({"v": np.ones(len(index))}, index=index)
    start = time.perf_counter()
    check_frame(panel, "Test", require_observed=True, regular=True)
    assert time.perf_counter() - start < 0.5  # about 0.06 s on one core


def test_empirical_positions_are_skpros_rule():
    from skpro.distributions import Empirical

    samples = np.arange(10.0)
    dist = Empirical(pd.DataFrame({"x": samples}, index=pd.RangeIndex(10)))
    alpha = [0.0, 0.1, 0.15, 0.3, 0.5, 0.95, 0.99]
    positions = empirical_quantile_positions(10, alpha)
    expected = [float(dist.ppf(a)) for a in alpha]
    np.testing.assert_array_equal(samples[positions], expected)


def test_sample_paths_for_1000_series_summarise_in_seconds():
    import time

    rng = np.random.default_rng(0)
    paths = SamplePaths(
        values=rng.normal(size=(1000, 100, 1, 24)),
        keys=[(i,) for i in range(1000)],
        time_index=pd.RangeIndex(24),
        columns=pd.Index(["y"]),
        instance_names=["id"],
        time_name="t",
    )
    started = time.perf_counter()
    quantiles = paths.quantiles([0.05, 0.5, 0.95])
    frame = paths.to_frame()
    assert quantiles.shape == (24_000, 3) and frame.shape == (2_400_000, 1)
    assert time.perf_counter() - started < 10


def test_sample_paths_intervals_are_the_quantiles_at_the_two_tails():
    rng = np.random.default_rng(0)
    paths = SamplePaths(
        values=rng.normal(size=(2, 20, 2, 5)),
        keys=[("a",), ("b",)],
        time_index=pd.RangeIndex(5),
        columns=pd.Index(["x", "y"]),
        instance_names=["id"],
        time_name="t",
    )
    intervals = paths.intervals([0.5, 0.9])
    quantiles = paths.quantiles([0.25, 0.75, 0.05, 0.95])
    assert list(intervals.columns[:4]) == [
        ("x", 0.5, "lower"),
        ("x", 0.5, "upper"),
        ("x", 0.9, "lower"),
        ("x", 0.9, "upper"),
    ]
    for variable in ("x", "y"):
        for coverage, low, high in ((0.5, 0.25, 0.75), (0.9, 0.05, 0.95)):
            np.testing.assert_array_equal(
                intervals[(variable, coverage, "lower")], quantiles[(variable, low)]
            )
            np.testing.assert_array_equal(
                intervals[(variable, coverage, "upper")], quantiles[(variable, high)]
            )


def test_sample_paths_of_rows_summarise_on_a_panels_own_rows():
    """Series of unequal lengths share no time index: their rows are one block."""
    rows = pd.MultiIndex.from_tuples(
        [("a", 0), ("a", 1), ("a", 2), ("b", 0)], names=["key", "t"]
    )
    samples = np.arange(3 * 4 * 2, dtype=float).reshape(3, 4, 2)  # (S, rows, F)
    paths = SamplePaths.of_rows(samples, rows, pd.Index(["p", "q"]))
    pd.testing.assert_index_equal(paths.quantiles([0.5]).index, rows)
    np.testing.assert_array_equal(paths.mean().to_numpy(), samples.mean(axis=0))
    np.testing.assert_array_equal(paths.quantiles([1.0]).to_numpy(), samples[-1])
    frame = paths.to_frame()
    assert frame.index.names == ["sample", "key", "t"]
    np.testing.assert_array_equal(frame.to_numpy(), samples.reshape(-1, 2))


def test_quantiles_sorted_a_stretch_of_time_at_a_time_are_those_of_one_sort(monkeypatch):
    """Long paths are sorted piece by piece (one sorted copy of a stretch at a time)."""
    import sktime_diffusion.samples as samples_module

    rng = np.random.default_rng(0)
    values = rng.normal(size=(2, 7, 3, 11)).astype(np.float32)
    expected = np.sort(values, axis=1)[:, empirical_quantile_positions(7, [0.1, 0.5])]
    paths = SamplePaths(
        values, [("a",), ("b",)], pd.RangeIndex(11), pd.Index(list("xyz")), ["id"]
    )
    monkeypatch.setattr(samples_module, "SORTED_ENTRIES", 2 * 7 * 3 * 2)  # 2 steps
    stretched = paths.quantiles([0.1, 0.5])
    assert stretched.dtypes.unique().tolist() == [np.float32]
    np.testing.assert_array_equal(
        stretched.to_numpy().reshape(2, 11, 3, 2), expected.transpose(0, 3, 2, 1)
    )


def test_window_scaling_inverts_in_place_to_the_same_numbers():
    rng = np.random.default_rng(1)
    windows = rng.normal(5, 2, size=(1, 4, 2, 10))  # (windows, samples, F, L)
    scaling = window_scaling(windows[:, 0], np.ones((1, 2, 10), dtype=bool))
    copy = scaling.invert(windows)
    same = windows.copy()
    assert scaling.invert(same, in_place=True) is same
    np.testing.assert_array_equal(same, copy)
