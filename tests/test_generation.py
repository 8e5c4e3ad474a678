"""DiffusionGenerator: formats, context, long series, reproducibility, bad input."""

import pickle
from copy import deepcopy

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sktime.base import load

from sktime_diffusion import DiffusionGenerator, DilatedConvNetwork
from sktime_diffusion._estimator_engine import tiny_backbone_configuration
from sktime_diffusion.datasets import make_sines
from sktime_diffusion.metrics import autocorrelation_distance

TINY = {
    "network": DilatedConvNetwork(channels=8, n_layers=2, time_embedding_dim=16),
    "training_steps": 10,
    "n_sampling_steps": 3,
    "random_state": 0,
}
#: the tiny "x0" network has barely learnt and predicts nearly the same clean window
#: whatever the noise (spread of its samples: 1e-5 of the data's); a "v" network of
#: the same size draws visibly random series (spread 0.26 of the data's)
NOISY = {**TINY, "parameterisation": "v"}


@pytest.fixture(scope="module")
def panel():
    return make_sines(n_series=32, length=16, n_features=2, random_state=0)


@pytest.fixture(scope="module")
def fitted(panel):
    return DiffusionGenerator(**TINY).fit(panel)


def test_a_panel_gives_a_panel_of_series_of_the_training_length(fitted, panel):
    assert fitted.window_length_ == 16
    synthetic = fitted.sample(5)
    assert synthetic.shape == (5 * 16, 2)
    assert list(synthetic.columns) == list(panel.columns)
    assert synthetic.index.names == ["instance", "time"]
    assert synthetic.index.get_level_values(0).unique().tolist() == list(range(5))
    assert np.isfinite(synthetic.to_numpy()).all()


def test_numpy3d_in_numpy3d_out():
    data = np.random.default_rng(0).normal(size=(20, 3, 12))
    generator = DiffusionGenerator(**TINY).fit(data)
    assert generator.sample(4).shape == (4, 3, 12)
    assert generator.sample(2, length=30).shape == (2, 3, 30)


def test_one_long_series_is_learnt_in_windows():
    y = pd.Series(np.sin(np.arange(300) / 4), name="y")
    generator = DiffusionGenerator(**{**TINY, "window_length": 20}).fit(y)
    synthetic = generator.sample(3)
    assert synthetic.shape == (60, 1) and list(synthetic.columns) == ["y"]


@pytest.mark.parametrize(
    ("whiten", "missing"),
    [(False, (2, [0])), (True, (2, [0, 1]))],  # whitened: a whole step or nothing
)
def test_context_entries_are_kept_exactly(panel, whiten, missing):
    context = panel.loc[3].iloc[:6].copy()
    context.iloc[missing] = np.nan  # generated, not kept
    generator = DiffusionGenerator(**NOISY, whiten=whiten).fit(panel)
    synthetic = generator.sample(4, context=context)
    for instance in range(4):
        path = synthetic.loc[instance].to_numpy()
        kept = ~np.isnan(context.to_numpy())
        np.testing.assert_array_equal(path[:6][kept], context.to_numpy()[kept])
    assert np.isfinite(synthetic.to_numpy()).all()
    assert np.unique(synthetic.xs(2, level=1).iloc[:, 0]).size == 4  # drawn per sample


def _correlated_panel(n_series=32, length=16):
    """Two columns of one random walk with noise, correlation about -0.97."""
    rng = np.random.default_rng(0)
    factor = rng.normal(size=(n_series, length)).cumsum(axis=1) / 3
    index = pd.MultiIndex.from_product(
        [range(n_series), range(length)], names=["instance", "time"]
    )
    columns = {
        "a": (factor + 0.2 * rng.normal(size=factor.shape)).ravel(),
        "b": (-2 * factor + 0.3 * rng.normal(size=factor.shape)).ravel(),
    }
    return pd.DataFrame(columns, index=index)


def test_whitened_columns_give_the_samples_the_correlation_of_the_data():
    """A barely trained network draws nearly independent columns in the model's units:
    rotated back from whitened units they get the data's correlation, scaled column
    by column they do not."""
    panel = _correlated_panel()
    target = np.corrcoef(panel.to_numpy().T)[0, 1]
    whitened = DiffusionGenerator(**NOISY, whiten=True).fit(panel)
    assert whitened.whiten_
    correlation = np.corrcoef(whitened.sample(64).to_numpy().T)[0, 1]
    assert abs(correlation - target) < 0.05
    apart = DiffusionGenerator(**NOISY).fit(panel).sample(64)  # whiten=False
    assert abs(np.corrcoef(apart.to_numpy().T)[0, 1]) < 0.5


def test_a_backbone_that_sees_one_column_at_a_time_keeps_the_correlation_when_whitened():
    panel = _correlated_panel()
    target = np.corrcoef(panel.to_numpy().T)[0, 1]
    config = {**tiny_backbone_configuration(), "window_length": 16, "random_state": 0}
    whitened = DiffusionGenerator(**config, whiten=True).fit(panel).sample(32)
    assert abs(np.corrcoef(whitened.to_numpy().T)[0, 1] - target) < 0.1
    apart = DiffusionGenerator(**config).fit(panel).sample(32)
    assert abs(np.corrcoef(apart.to_numpy().T)[0, 1]) < 0.5


def test_auto_whitens_fully_observed_data_of_several_columns_only(panel):
    auto = {**TINY, "whiten": "auto"}
    assert DiffusionGenerator(**auto).fit(panel).whiten_
    assert not DiffusionGenerator(**TINY).fit(panel).whiten_  # off by default
    one_column = panel[[panel.columns[0]]]
    assert not DiffusionGenerator(**auto).fit(one_column).whiten_
    gappy = panel.copy()
    gappy.iloc[5, 1] = np.nan
    generator = DiffusionGenerator(**auto).fit(gappy)
    assert not generator.whiten_ and not hasattr(generator.scaling_, "rotation")
    with pytest.raises(ValueError, match="whiten=True needs every training value"):
        DiffusionGenerator(**TINY, whiten=True).fit(gappy)


@pytest.mark.parametrize("whiten", ["yes", 1, None])
def test_a_bad_whiten_value_is_refused(panel, whiten):
    with pytest.raises(ValueError, match="whiten must be 'auto', True or False"):
        DiffusionGenerator(**TINY, whiten=whiten).fit(panel)


def test_a_context_step_giving_some_columns_is_refused_when_whitened(panel):
    whitened = DiffusionGenerator(**TINY, whiten=True).fit(panel)
    context = panel.loc[3].iloc[:6].copy()
    context.iloc[2, 0] = np.nan
    with pytest.raises(ValueError, match=r"steps \[2\] give some"):
        whitened.sample(2, context=context)
    assert whitened.n_sample_calls_ == 0


def test_longer_series_are_generated_block_by_block_with_the_context(fitted, panel):
    context = panel.loc[0].iloc[:10]
    synthetic = fitted.sample(3, length=45, context=context)
    assert synthetic.shape == (3 * 45, 2)
    np.testing.assert_array_equal(synthetic.loc[1].iloc[:10].to_numpy(), context.to_numpy())
    assert np.isfinite(synthetic.to_numpy()).all()


def test_same_random_state_same_first_samples_and_a_refit_starts_again(panel):
    generator = DiffusionGenerator(**TINY).fit(panel)
    expected = generator.sample(6)
    pd.testing.assert_frame_equal(DiffusionGenerator(**TINY).fit(panel).sample(6), expected)
    pd.testing.assert_frame_equal(clone(generator).fit(panel).sample(6), expected)
    generator.sample(6)
    pd.testing.assert_frame_equal(generator.fit(panel).sample(6), expected)
    other = DiffusionGenerator(**{**TINY, "random_state": 1}).fit(panel).sample(6)
    assert not np.allclose(other.to_numpy(), expected.to_numpy())


# ------------------------------------------------------- every call draws new series
def _series(synthetic: pd.DataFrame) -> np.ndarray:
    """The series of a synthetic panel, shape (n_samples, length, n_features)."""
    n_samples = synthetic.index.get_level_values(0).nunique()
    return synthetic.to_numpy().reshape(n_samples, -1, synthetic.shape[1])


def _assert_new_draws(first: pd.DataFrame, second: pd.DataFrame) -> None:
    """Series i of ``second`` is as far from series i of ``first`` as two series of one
    call are from each other (0 if ``second`` repeats ``first`` or starts with it, in
    its first series or its first steps)."""
    first, second = _series(first), _series(second)
    n_samples, length, _ = first.shape
    between_calls = np.abs(first - second[:n_samples, :length]).mean()
    within_a_call = np.abs(first[1:] - first[:-1]).mean()
    assert between_calls > 0.5 * within_a_call


def test_consecutive_calls_draw_new_series(panel):
    generator = DiffusionGenerator(**NOISY).fit(panel)
    first, second = generator.sample(4), generator.sample(4)
    _assert_new_draws(first, second)
    _assert_new_draws(first, generator.sample(8))
    assert generator.n_sample_calls_ == 3


def test_a_smaller_call_is_not_the_start_of_a_larger_call_of_an_equal_copy(panel):
    generator = DiffusionGenerator(**NOISY).fit(panel)
    copy = deepcopy(generator)
    _assert_new_draws(generator.sample(4), copy.sample(8))
    _assert_new_draws(generator.sample(4, length=16), copy.sample(4, length=40))


def test_random_state_none_also_draws_new_series_per_call(panel):
    generator = DiffusionGenerator(**{**NOISY, "random_state": None}).fit(panel)
    _assert_new_draws(generator.sample(4), generator.sample(4))


def test_a_new_instance_with_the_same_random_state_repeats_the_sequence_of_calls(panel):
    def calls(generator):
        return [
            generator.sample(3),
            generator.sample(3),
            generator.sample(2, length=30),
            generator.sample(2, context=panel.loc[1].iloc[:5]),
        ]

    expected = calls(DiffusionGenerator(**NOISY).fit(panel))
    _assert_new_draws(expected[0], expected[1])
    results = calls(DiffusionGenerator(**NOISY).fit(panel))
    for result, wanted in zip(results, expected, strict=True):
        pd.testing.assert_frame_equal(result, wanted, check_exact=True)


def test_copies_taken_after_some_calls_continue_like_the_original(panel, tmp_path):
    generator = DiffusionGenerator(**NOISY).fit(panel)
    first = generator.sample(4)
    generator.sample(4)
    generator.save(tmp_path / "generator")
    copies = [
        deepcopy(generator),
        pickle.loads(pickle.dumps(generator)),
        load(str(tmp_path / "generator")),
    ]
    expected = generator.sample(4)
    _assert_new_draws(first, expected)
    for copy in copies:
        assert copy.n_sample_calls_ == 2
        pd.testing.assert_frame_equal(copy.sample(4), expected, check_exact=True)
        assert copy.n_sample_calls_ == 3


def test_a_refused_call_draws_nothing(fitted):
    calls = fitted.n_sample_calls_
    with pytest.raises(ValueError, match="n_samples"):
        fitted.sample(0)
    assert fitted.n_sample_calls_ == calls


def test_parameters_are_reachable_for_grid_search():
    generator = DiffusionGenerator(**TINY)
    generator.set_params(network__channels=4, n_sampling_steps=5)
    assert generator.get_params()["network__channels"] == 4


@pytest.mark.slow
def test_training_brings_the_sample_autocorrelation_close_to_the_data():
    # an untrained model already draws the right mean and spread (the data are
    # standardised), so the shape over time is what training must learn
    real = make_sines(n_series=128, length=16, n_features=2, random_state=0)
    windows = real.to_numpy().reshape(128, 16, 2)

    def distance(training_steps):
        generator = DiffusionGenerator(
            network=DilatedConvNetwork(channels=16, n_layers=4),
            training_steps=training_steps,
            n_sampling_steps=10,
            random_state=0,
        ).fit(real)
        synthetic = generator.sample(128).to_numpy().reshape(128, 16, 2)
        return autocorrelation_distance(windows, synthetic)

    assert distance(300) < 0.7 * distance(1)


# ---------------------------------------------------------------------- bad input
def test_sample_before_fit_is_refused():
    with pytest.raises(Exception, match="not been fitted"):
        DiffusionGenerator(**TINY).sample(2)


@pytest.mark.parametrize("n_samples", [0, -1, 1.5])
def test_bad_n_samples_is_refused(fitted, n_samples):
    with pytest.raises(ValueError, match="n_samples"):
        fitted.sample(n_samples)


def test_too_long_output_is_refused(fitted):
    with pytest.raises(ValueError, match="larger than supported"):
        fitted.sample(1, length=1000 * 16 + 1)


def test_context_with_other_columns_is_refused(fitted, panel):
    context = panel.loc[0].iloc[:4].rename(columns={"feature_0": "other"})
    with pytest.raises(ValueError, match="fitted on columns"):
        fitted.sample(1, context=context)
    with pytest.raises(ValueError, match="shape"):
        fitted.sample(1, context=np.zeros((4, 3)))


def test_context_longer_than_the_output_is_refused(fitted, panel):
    with pytest.raises(ValueError, match="more than length"):
        fitted.sample(1, length=5, context=panel.loc[0].iloc[:8])


def test_data_shorter_than_a_window_is_refused():
    short = make_sines(n_series=4, length=6, random_state=0)
    with pytest.raises(ValueError, match="at least window_length=8"):
        DiffusionGenerator(**{**TINY, "window_length": 8}).fit(short)


@pytest.mark.parametrize(
    ("data", "error", "message"),
    [
        (np.zeros((5, 4)), ValueError, "n_instances, n_features"),
        ([1.0, 2.0, 3.0], TypeError, "must be a pd.Series"),
        (pd.DataFrame({"a": [1.0, np.inf] * 20}), ValueError, "inf"),
        (pd.DataFrame({"a": ["x"] * 40}), TypeError, "numeric"),
    ],
)
def test_bad_training_data_is_refused(data, error, message):
    with pytest.raises(error, match=message):
        DiffusionGenerator(**TINY).fit(data)


def test_generator_predicts_the_clean_window_by_default_and_says_so():
    assert DiffusionGenerator().get_params()["parameterisation"] == "x0"
    assert 'default="x0"' in DiffusionGenerator.__doc__


def test_the_docstring_says_that_each_call_draws_new_series():
    doc = " ".join(DiffusionGenerator.__doc__.split())
    assert "repeated predictions of one fitted model draw the same samples" not in doc
    assert "Each ``sample`` call draws new series" in doc
    assert "n_sample_calls_ : int" in doc


@pytest.mark.parametrize(
    "length, n_layers", [(24, 8), (61, 8), (62, 10), (96, 10), (126, 12)]
)
def test_the_default_network_sees_the_whole_window(length, n_layers):
    real = make_sines(n_series=4, length=length, n_features=1, random_state=0)
    generator = DiffusionGenerator(training_steps=1, random_state=0).fit(real)
    config = generator.model_.network_config
    assert generator.window_length_ == length
    assert config["n_layers"] == n_layers
    network = DilatedConvNetwork(
        n_layers=config["n_layers"], dilation_cycle=config["dilation_cycle"]
    )
    assert network.receptive_field >= length
    # an explicit network is used as given
    given = DilatedConvNetwork(channels=8, n_layers=2, time_embedding_dim=16)
    explicit = DiffusionGenerator(network=given, training_steps=1, random_state=0)
    assert explicit.fit(real).model_.network_config["n_layers"] == 2


def test_receptive_field_of_the_dilated_network():
    assert DilatedConvNetwork().receptive_field == 61
    assert (
        DilatedConvNetwork(n_layers=3, dilation_cycle=2, kernel_size=5).receptive_field
        == 17
    )
