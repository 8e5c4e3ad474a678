"""Loaders of public files read from a local path (files written here, no download),
and the generated data sets."""

import json

import numpy as np
import pandas as pd
import pytest

from sktime_diffusion.datasets import (
    data_path,
    load_ili,
    load_nab,
    load_nab_labels,
    load_stock_windows,
    make_correlated_series,
    nab_point_labels,
)


@pytest.fixture()
def nab_dir(tmp_path):
    folder = tmp_path / "NAB" / "data" / "realKnownCause"
    folder.mkdir(parents=True)
    times = pd.date_range("2014-01-01", periods=12, freq="5min")
    pd.DataFrame(
        {"timestamp": times.strftime("%Y-%m-%d %H:%M:%S"), "value": range(12)}
    ).to_csv(folder / "toy.csv", index=False)
    (tmp_path / "NAB" / "labels").mkdir()
    windows = {
        "realKnownCause/toy.csv": [
            ["2014-01-01 00:10:00.000000", "2014-01-01 00:20:00.000000"]
        ]
    }
    (tmp_path / "NAB" / "labels" / "combined_windows.json").write_text(json.dumps(windows))
    return tmp_path


def test_nab_series_and_its_windows_give_point_labels(nab_dir):
    y = load_nab("realKnownCause/toy.csv", nab_dir)
    assert y.index.freqstr == "5min" and y.dtype == np.float64 and len(y) == 12
    windows = load_nab_labels("realKnownCause/toy.csv", nab_dir)
    labels = nab_point_labels(y.index, windows)
    assert np.flatnonzero(labels).tolist() == [2, 3, 4]  # both ends included
    with pytest.raises(KeyError, match="no label windows"):
        load_nab_labels("realKnownCause/other.csv", nab_dir)


def test_stock_windows_are_in_time_order_and_scaled_to_the_unit_interval(tmp_path):
    path = tmp_path / "stock_data.csv"
    newest_first = np.arange(30.0)[::-1, None] * np.array([[1.0, 2.0]])
    pd.DataFrame(newest_first, columns=["Open", "Close"]).to_csv(path, index=False)
    windows = load_stock_windows(path, length=5)
    assert windows.shape == (26, 5, 2)
    assert np.all(np.diff(windows[0, :, 0]) > 0)  # oldest day first
    np.testing.assert_allclose(windows[0, 0], [0.0, 0.0])  # the oldest day: minimum
    np.testing.assert_allclose(windows[-1, -1], [1.0, 1.0], atol=1e-6)  # newest: max


def test_a_missing_file_says_where_it_looked(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        data_path("NAB/data/none.csv", tmp_path)


def test_ili_file_reads_as_weekly_periods_ending_on_its_weekday(tmp_path):
    folder = tmp_path / "ltsf_weather_ili"
    folder.mkdir()
    dates = pd.date_range("2002-01-01", periods=4, freq="7D")  # Tuesdays
    columns = {"date": dates.strftime("%Y-%m-%d %H:%M:%S"), "% WEIGHTED ILI": [1, 2, 3, 4]}
    pd.DataFrame({**columns, "OT": [5, 6, 7, 8]}).to_csv(
        folder / "national_illness.csv", index=False
    )
    frame = load_ili(tmp_path)
    assert frame.index.freqstr == "W-TUE"
    assert list(frame.columns) == ["% WEIGHTED ILI", "OT"]
    assert frame.index[0].end_time.normalize() == pd.Timestamp("2002-01-01")
    assert frame.dtypes.eq(np.float64).all()


def test_correlated_series_has_the_correlation_it_reports():
    frame = make_correlated_series(20_000, n_features=8, random_state=0)
    pairs = np.triu_indices(8, k=1)
    measured = np.corrcoef(frame.to_numpy().T)[pairs]
    known = frame.attrs["correlation"][pairs]
    assert np.abs(known).mean() > 0.2  # the features do move together
    assert np.abs(measured - known).mean() < 0.03


def test_correlated_series_is_seeded():
    first = make_correlated_series(100, n_features=4, random_state=3)
    pd.testing.assert_frame_equal(first, make_correlated_series(100, 4, random_state=3))
