"""The one scaling rule: each window standardised by the mean and spread of its given
entries, with a floor, checked against numpy's masked statistics."""

import numpy as np
import pytest
import torch

from sktime_diffusion._windows import (
    column_whitening,
    scale_floor,
    series_scaling,
    window_scaling,
)
from sktime_diffusion.engine.scaling import (
    RELATIVE_SCALE_FLOOR,
    given_entry_scaling,
    spread_floor,
)


def _windows(seed=0, shape=(40, 3, 12)):
    rng = np.random.default_rng(seed)
    values = rng.normal(3.0, 2.0, size=shape)
    given = rng.random(shape) < 0.6
    given[0] = False  # nothing given
    given[1, 0] = True
    values[1, 0] = 7.0  # constant
    return values, given


def test_loc_and_scale_are_the_masked_mean_and_population_std_above_the_floor():
    values, given = _windows()
    floor = np.random.default_rng(1).uniform(0.0, 0.5, size=(40, 3, 1))
    loc, scale = given_entry_scaling(
        torch.from_numpy(values), torch.from_numpy(given), torch.from_numpy(floor)
    )
    masked = np.ma.masked_array(values, mask=~given)
    want_loc = masked.mean(axis=-1, keepdims=True).filled(0.0)
    std = masked.std(axis=-1, keepdims=True).filled(np.nan)
    smallest = np.maximum(floor, RELATIVE_SCALE_FLOOR * np.maximum(np.abs(want_loc), 1))
    want_scale = np.where(np.isnan(std), 1.0, np.maximum(np.nan_to_num(std), smallest))
    np.testing.assert_allclose(loc.numpy(), want_loc, rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(scale.numpy(), want_scale, rtol=1e-13)
    assert (loc[0] == 0).all() and (scale[0] == 1).all()
    assert scale[1, 0, 0] == pytest.approx(max(floor[1, 0, 0], 7e-6))


def test_entries_that_are_not_given_do_not_matter_even_as_nan():
    values, given = _windows()
    other = np.where(given, values, np.nan)
    first = given_entry_scaling(torch.from_numpy(values), torch.from_numpy(given))
    second = given_entry_scaling(torch.from_numpy(other), torch.from_numpy(given))
    for a, b in zip(first, second, strict=True):
        assert torch.equal(a, b)


def test_spread_floor_is_a_share_of_the_spread_and_never_zero():
    values, given = _windows()
    floor = spread_floor(torch.from_numpy(values), torch.from_numpy(given), 0.1)
    std = np.ma.masked_array(values, mask=~given).std(axis=-1, keepdims=True)
    mean = np.ma.masked_array(values, mask=~given).mean(axis=-1, keepdims=True)
    want = np.maximum(
        0.1 * std.filled(0.0), RELATIVE_SCALE_FLOOR * np.maximum(np.abs(mean.filled(0)), 1)
    )
    np.testing.assert_allclose(floor.numpy(), want, rtol=1e-13)
    assert floor[1, 0, 0] == pytest.approx(7e-6)


def test_the_numpy_helpers_are_the_engine_rule_on_arrays():
    values, given = _windows()
    with_nan = np.where(given, values, np.nan)
    scaling = window_scaling(with_nan, np.ones_like(given))  # NaN is never usable
    loc, scale = given_entry_scaling(torch.from_numpy(values), torch.from_numpy(given))
    assert np.array_equal(scaling.loc, loc.numpy())
    assert np.array_equal(scaling.scale, scale.numpy())
    series = with_nan[2].T  # (n_timepoints, n_features)
    whole = series_scaling(series)
    np.testing.assert_allclose(whole.loc[0, :, 0], np.nanmean(series, axis=0))
    np.testing.assert_allclose(whole.scale[0, :, 0], np.nanstd(series, axis=0))
    np.testing.assert_allclose(scale_floor(series, 0.1), 0.1 * np.nanstd(series, axis=0))


def test_read_only_data_is_scaled_without_a_torch_warning():
    """A frame's values can be a read-only view; torch warns once per process on those,
    so this runs in a fresh process with warnings as errors."""
    import subprocess
    import sys

    code = (
        "import numpy as np\n"
        "from sktime_diffusion._windows import (\n"
        "    scale_floor, series_scaling, window_scaling)\n"
        "values = np.arange(24.0).reshape(12, 2)\n"
        "values.flags.writeable = False\n"
        "reference = np.ones((1, 2, 12), dtype=bool)\n"
        "reference.flags.writeable = False\n"
        "series_scaling(values)\n"
        "scale_floor(values)\n"
        "window_scaling(values.T[None], reference, scale_floor(values))\n"
    )
    result = subprocess.run(
        [sys.executable, "-W", "error", "-c", code], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr[-2000:]


def test_standardise_by_given_uses_the_given_entries_only_and_zeroes_the_unobserved():
    from sktime_diffusion.engine.scaling import standardise_by_given

    values = torch.tensor([[[1.0, 3.0, 100.0, 7.0]]])
    observed = torch.tensor([[[True, True, True, False]]])
    given = torch.tensor([[[True, True, False, True]]])  # the unobserved 7 is not used
    scaled, _, _ = standardise_by_given(values, observed, given, floor=0.1)
    torch.testing.assert_close(scaled, torch.tensor([[[-1.0, 1.0, 98.0, 0.0]]]))


def test_standardise_by_given_keeps_windows_with_nothing_given_and_floors_flat_ones():
    from sktime_diffusion.engine.scaling import standardise_by_given

    values = torch.tensor([[[2.0, 2.0, 5.0]], [[4.0, 4.0, 4.0]]])
    observed = torch.ones_like(values, dtype=torch.bool)
    given = torch.tensor([[[False, False, False]], [[True, True, False]]])
    scaled, _, _ = standardise_by_given(values, observed, given, floor=0.5)
    torch.testing.assert_close(scaled[0], values[0])  # nothing given: as it was
    torch.testing.assert_close(scaled[1], torch.zeros(1, 3))  # flat: (4 - 4) / 0.5


def _correlated_rows(n=2_000, seed=0):
    """Three columns: two loud copies of one factor (with noise) and a quiet one."""
    rng = np.random.default_rng(seed)
    factor = rng.normal(size=n)
    return np.column_stack(
        [
            10 + 5 * factor + 0.5 * rng.normal(size=n),
            -3 * factor + 0.3 * rng.normal(size=n),
            0.01 * rng.normal(size=n),
        ]
    )


def test_whitened_columns_have_unit_variance_and_no_correlation():
    rows = _correlated_rows()
    whitened = column_whitening(rows).apply_to_series(rows)  # (n_features, n)
    np.testing.assert_allclose(whitened.mean(axis=1), 0.0, atol=1e-10)
    np.testing.assert_allclose(whitened @ whitened.T / rows.shape[0], np.eye(3), atol=1e-8)


def test_whitening_is_inverted_exactly_and_broadcasts_over_samples():
    rows = _correlated_rows()
    whitening = column_whitening(rows)
    windows = np.stack([rows[:12].T, rows[12:24].T])  # (2, 3, 12)
    paths = np.stack([whitening.apply(windows)] * 4, axis=1)  # (2, 4, 3, 12)
    np.testing.assert_allclose(whitening.invert(paths), np.stack([windows] * 4, axis=1))
    in_place = paths.copy()
    assert whitening.invert(in_place, in_place=True) is in_place
    np.testing.assert_allclose(in_place, np.stack([windows] * 4, axis=1))


def test_whitening_copies_and_constants_does_not_blow_up():
    rows = _correlated_rows()[:, :2]
    rows = np.column_stack([rows, rows[:, 0], np.full(len(rows), 7.0)])  # copy, constant
    whitening = column_whitening(rows)
    assert np.isfinite(whitening.rotation).all()
    np.testing.assert_allclose(whitening.invert(whitening.apply(rows.T[None]))[0].T, rows)


def test_a_missing_entry_makes_its_whole_step_missing_once_whitened():
    rows = _correlated_rows()
    whitening = column_whitening(rows)
    window = rows[:8].T.copy()
    window[1, 3] = np.nan
    whitened = whitening.apply(window[None])[0]
    assert np.isnan(whitened[:, 3]).all()
    assert np.isfinite(np.delete(whitened, 3, axis=1)).all()
    with pytest.raises(ValueError, match="fully observed"):
        column_whitening(np.where(np.arange(len(rows))[:, None] == 5, np.nan, rows))
