import pickle

import pytest
import torch

from sktime_diffusion.engine import (
    PARAMETERISATIONS,
    Condition,
    DiffusionModel,
    chunk_size,
    generate,
    make_schedule,
)
from sktime_diffusion.engine.model import diffuse, regression_target, x0_from_prediction
from sktime_diffusion.networks import CSDINetwork, DilatedConvNetwork

N_FEATURES, LENGTH = 3, 8


def small_model(
    kind="dilated_conv", schedule="quadratic", parameterisation="v", n_side=0, **network
):
    params = {"channels": 8, "n_layers": 2, **network}
    if kind == "csdi":
        params["n_heads"] = 2
    spec = {"csdi": CSDINetwork, "dilated_conv": DilatedConvNetwork}[kind](**params)
    with torch.random.fork_rng():
        torch.manual_seed(0)
        return DiffusionModel(
            spec.network_config(N_FEATURES, n_side),
            make_schedule(schedule),
            parameterisation,
        )


@pytest.mark.parametrize("parameterisation", PARAMETERISATIONS)
@pytest.mark.parametrize("schedule", ["cosine", "ve"])
def test_parameterisations_invert_exactly(parameterisation, schedule):
    generator = torch.Generator().manual_seed(0)
    x0 = torch.randn(4, N_FEATURES, LENGTH, dtype=torch.float64, generator=generator)
    noise = torch.randn(x0.shape, dtype=torch.float64, generator=generator)
    alpha, sigma = make_schedule(schedule).alpha_sigma(
        torch.tensor([0.1, 0.4, 0.7, 1.0], dtype=torch.float64)
    )
    x_t = diffuse(x0, noise, alpha, sigma)
    target = regression_target(parameterisation, x0, noise, alpha, sigma)
    recovered = x0_from_prediction(parameterisation, target, x_t, alpha, sigma)
    torch.testing.assert_close(recovered, x0)


def test_loss_ignores_entries_that_are_not_targets():
    model = small_model()
    generator = torch.Generator().manual_seed(1)
    x0 = torch.randn(6, N_FEATURES, LENGTH, generator=generator)
    observed = torch.ones_like(x0, dtype=torch.bool)
    observed[:, 0] = False
    given = torch.zeros_like(observed)
    given[:, 1] = True
    changed = x0.clone()
    changed[:, 0] = 1e6  # unobserved: must not matter
    first = model.loss(x0, observed, given, generator=torch.Generator().manual_seed(2))
    second = model.loss(
        changed, observed, given, generator=torch.Generator().manual_seed(2)
    )
    torch.testing.assert_close(first, second)


@pytest.mark.parametrize("kind", ["csdi", "dilated_conv"])
def test_given_entries_are_returned_exactly(kind):
    model = small_model(kind)
    values = torch.randn(2, N_FEATURES, LENGTH)
    given = torch.rand(2, N_FEATURES, LENGTH) < 0.5
    samples = generate(
        model,
        Condition(values, given),
        5,
        n_steps=3,
        generator=torch.Generator().manual_seed(0),
    )
    assert samples.shape == (2, 5, N_FEATURES, LENGTH)
    expected = values[:, None].expand_as(samples)
    given_samples = given[:, None].expand_as(samples)
    assert torch.equal(samples[given_samples], expected[given_samples])


def test_generate_is_seeded_and_chunking_does_not_change_samples():
    model = small_model("csdi")
    condition = Condition(
        torch.zeros(3, N_FEATURES, LENGTH),
        torch.zeros(3, N_FEATURES, LENGTH, dtype=torch.bool),
    )

    def draw(seed, max_batch=None, sampler="ddpm"):
        return generate(
            model,
            condition,
            4,
            sampler=sampler,
            n_steps=4,
            max_batch=max_batch,
            generator=torch.Generator().manual_seed(seed),
        )

    torch.testing.assert_close(draw(0), draw(0), rtol=0, atol=0)
    assert not torch.allclose(draw(0), draw(1))
    torch.testing.assert_close(
        draw(0, sampler="dpm_solver"),
        draw(0, max_batch=5, sampler="dpm_solver"),
        rtol=0,
        atol=1e-6,
    )


def test_generate_starts_from_the_given_start_noise_instead_of_the_generator():
    """The noise a caller draws window by window is what the sampler starts from."""
    model = small_model()
    condition = Condition(
        torch.zeros(2, N_FEATURES, LENGTH),
        torch.zeros(2, N_FEATURES, LENGTH, dtype=torch.bool),
    )
    noise = torch.randn(
        (2, 3, N_FEATURES, LENGTH), generator=torch.Generator().manual_seed(4)
    )

    def draw(seed, start_noise):
        generator = torch.Generator().manual_seed(seed)
        options = {"sampler": "dpm_solver", "n_steps": 4, "generator": generator}
        return generate(model, condition, 3, start_noise=start_noise, **options)

    # the generator that drew the same noise in one call gives the same samples
    from_generator = generate(
        model,
        condition,
        3,
        sampler="dpm_solver",
        n_steps=4,
        generator=torch.Generator().manual_seed(4),
    )
    torch.testing.assert_close(draw(0, noise), from_generator, rtol=0, atol=0)
    torch.testing.assert_close(draw(0, noise), draw(1, noise), rtol=0, atol=0)
    assert not torch.allclose(draw(0, noise), draw(0, torch.randn_like(noise)))
    with pytest.raises(ValueError, match=r"start_noise needs shape \(2, 3, 3, 8\)"):
        draw(0, noise[:, :2])


@pytest.mark.parametrize(
    ("n_windows", "window_entries", "device", "max_batch", "expected"),
    [
        (1000, 2**10, "cpu", "auto", 2**14 // 2**10),  # cache-sized chunks on the CPU
        (3, 2**10, "cpu", "auto", 3),  # never more than there is
        (1000, 2**20, "cpu", "auto", 1),  # at least one window
        (10_000, 2**10, "cuda", "auto", 4096),  # big batches on accelerators
        (1000, 2**10, "cpu", None, 1000),
        (1000, 2**10, "cpu", 7, 7),
    ],
)
def test_chunk_size(n_windows, window_entries, device, max_batch, expected):
    size = chunk_size(n_windows, window_entries, torch.device(device), max_batch)
    assert size == expected


@pytest.mark.parametrize("max_batch", [0, -3, 2.5, "big", True])
def test_chunk_size_rejects_bad_caps(max_batch):
    with pytest.raises(ValueError, match="max_batch"):
        chunk_size(10, 10, torch.device("cpu"), max_batch)


def test_csdi_feedforward_width_is_a_parameter():
    model = small_model("csdi", feedforward_dim=24)
    widths = {layer.temporal.linear1.out_features for layer in model.network.layers}
    assert widths == {24}


def test_side_channels_change_the_prediction():
    model = small_model("csdi", n_side=2)
    for parameter in model.parameters():  # make the output depend on its inputs
        torch.nn.init.normal_(parameter, std=0.3)
    values = torch.zeros(1, N_FEATURES, LENGTH)
    given = torch.zeros_like(values, dtype=torch.bool)
    t = torch.full((1,), 0.5)
    side = torch.zeros(1, 2, LENGTH)
    first = model.predict_x0(values, t, Condition(values, given, side))
    second = model.predict_x0(values, t, Condition(values, given, side + 1.0))
    assert not torch.allclose(first, second)


@pytest.mark.parametrize("kind", ["csdi", "dilated_conv"])
def test_pickle_and_save_load_predict_bit_identically(tmp_path, kind):
    model = small_model(kind)
    for parameter in model.parameters():
        torch.nn.init.normal_(parameter, std=0.1)
    condition = Condition(
        torch.randn(2, N_FEATURES, LENGTH), torch.rand(2, N_FEATURES, LENGTH) < 0.3
    )

    def draw(m):
        return generate(
            m,
            condition,
            3,
            sampler="ddim",
            n_steps=5,
            eta=1.0,
            generator=torch.Generator().manual_seed(7),
        )

    expected = draw(model)
    assert torch.equal(draw(pickle.loads(pickle.dumps(model))), expected)
    model.save(tmp_path / "model.pt")
    assert torch.equal(draw(DiffusionModel.load(tmp_path / "model.pt")), expected)


@pytest.mark.parametrize(
    "condition, message",
    [
        (
            Condition(torch.zeros(2, 8), torch.zeros(2, 8, dtype=torch.bool)),
            "3D tensor",
        ),
        (
            Condition(
                torch.zeros(2, 3, 8, dtype=torch.long),
                torch.zeros(2, 3, 8, dtype=torch.bool),
            ),
            "floating",
        ),
        (Condition(torch.zeros(2, 3, 8), torch.zeros(2, 3, 8)), "bool"),
        (
            Condition(torch.zeros(2, 3, 8), torch.zeros(2, 3, 7, dtype=torch.bool)),
            "shape",
        ),
        (
            Condition(torch.zeros(2, 4, 8), torch.zeros(2, 4, 8, dtype=torch.bool)),
            "3 features",
        ),
        (
            Condition(
                torch.full((2, 3, 8), float("nan")),
                torch.ones(2, 3, 8, dtype=torch.bool),
            ),
            "finite",
        ),
        (
            Condition(
                torch.zeros(2, 3, 8),
                torch.zeros(2, 3, 8, dtype=torch.bool),
                torch.zeros(2, 1, 8),
            ),
            "without side",
        ),
    ],
)
def test_bad_conditions_raise_before_tensor_work(condition, message):
    with pytest.raises(ValueError, match=message):
        generate(small_model(), condition, 2, n_steps=2)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"sampler": "euler"}, "unknown sampler"),
        ({"n_steps": 0}, "n_steps"),
        ({"n_steps": 2.5}, "integer"),
    ],
)
def test_bad_sampler_arguments_are_named(kwargs, message):
    condition = Condition(torch.zeros(1, 3, 8), torch.zeros(1, 3, 8, dtype=torch.bool))
    with pytest.raises(ValueError, match=message):
        generate(small_model(), condition, 2, **kwargs)


@pytest.mark.parametrize("n_samples", [0, -1, 1.5, True])
def test_n_samples_below_one_is_refused(n_samples):
    condition = Condition(torch.zeros(1, 3, 8), torch.zeros(1, 3, 8, dtype=torch.bool))
    with pytest.raises(ValueError, match="n_samples"):
        generate(small_model(), condition, n_samples)


def test_unknown_parameterisation_and_network_are_named():
    with pytest.raises(ValueError, match="parameterisation"):
        DiffusionModel({"kind": "csdi", "n_features": 2}, make_schedule("vp"), "score")
    with pytest.raises(ValueError, match="unknown network"):
        DiffusionModel({"kind": "unet", "n_features": 2}, make_schedule("vp"))
    with pytest.raises(ValueError, match="n_heads"):
        DiffusionModel(
            CSDINetwork(channels=10, n_heads=4).network_config(2, 0), make_schedule("vp")
        )


@pytest.mark.parametrize("t", [1e-5, 0.1, 0.5, 0.9, 1.0])
def test_v_target_has_unit_variance_on_ve_for_unit_variance_data(t):
    """Unscaled, alpha noise - sigma x0 has variance 1 + sigma**2 (6,400 at t=1)."""
    generator = torch.Generator().manual_seed(0)
    x0 = torch.randn(4000, N_FEATURES, LENGTH, dtype=torch.float64, generator=generator)
    noise = torch.randn(x0.shape, dtype=torch.float64, generator=generator)
    alpha, sigma = make_schedule("ve").alpha_sigma(
        torch.full((4000,), t, dtype=torch.float64)
    )
    target = regression_target("v", x0, noise, alpha, sigma)
    assert float(target.var()) == pytest.approx(1.0, abs=0.03)


@pytest.mark.parametrize("schedule", ["cosine", "linear", "quadratic", "vp"])
def test_v_target_on_vp_schedules_is_salimans_and_ho_bit_for_bit(schedule):
    """With float64 levels (as the model passes them) the unit-variance scale is exactly
    1 on VP schedules: float32 targets and estimates are the unscaled formulas' bits."""
    generator = torch.Generator().manual_seed(0)
    x0 = torch.randn(64, N_FEATURES, LENGTH, generator=generator)
    noise = torch.randn(x0.shape, generator=generator)
    t = torch.rand(64, generator=generator).clamp(min=1e-3)
    alpha64, sigma64 = make_schedule(schedule).alpha_sigma(t.to(torch.float64))
    a = alpha64.to(x0).reshape(-1, 1, 1)
    s = sigma64.to(x0).reshape(-1, 1, 1)
    target = regression_target("v", x0, noise, alpha64, sigma64)
    assert torch.equal(target, a * noise - s * x0)
    x_t = a * x0 + s * noise
    estimate = x0_from_prediction("v", target, x_t, alpha64, sigma64)
    assert torch.equal(estimate, (a * x_t - s * target) / (a**2 + s**2))


@pytest.mark.parametrize("baseline", ["none", "interpolation"])
def test_the_loss_scores_the_same_network_output_the_denoiser_is_built_from(baseline):
    """Training and sampling show the network one input for one x_t, t and condition."""
    spec = DilatedConvNetwork(channels=8, n_layers=2)
    with torch.random.fork_rng():
        torch.manual_seed(0)
        model = DiffusionModel(
            spec.network_config(N_FEATURES, 0), make_schedule("cosine"), "x0", baseline
        )
    generator = torch.Generator().manual_seed(3)
    x0 = torch.randn(6, N_FEATURES, LENGTH, generator=generator)
    observed = torch.ones_like(x0, dtype=torch.bool)
    given = torch.rand(x0.shape, generator=generator) < 0.5
    loss = model.loss(x0, observed, given, generator=torch.Generator().manual_seed(4))

    replay = torch.Generator().manual_seed(4)  # the loss's draws: times, then noise
    t = model.schedule.training_times(len(x0), generator=replay)
    noise = torch.randn(x0.shape, generator=replay)
    alpha, sigma = model.schedule.alpha_sigma(t.to(torch.float64))
    baseline_values = model.baseline_of(x0, given)
    x_t = diffuse(x0 - baseline_values, noise, alpha.to(x0), sigma.to(x0))
    with torch.no_grad():
        x0_hat = model.predict_x0(x_t, t, Condition(x0, given))
    target = ~given
    expected = (x0_hat - (x0 - baseline_values))[target].square().mean()
    assert torch.allclose(loss.detach(), expected, rtol=1e-5, atol=1e-7)


def channel_independent_model(kind="dilated_conv", n_side=0):
    params = {"channels": 8, "n_layers": 2}
    if kind == "csdi":
        params["n_heads"] = 2
    spec = {"csdi": CSDINetwork, "dilated_conv": DilatedConvNetwork}[kind](**params)
    with torch.random.fork_rng():
        torch.manual_seed(0)
        model = DiffusionModel(
            spec.network_config(1, n_side),
            make_schedule("cosine"),
            "v",
            channel_independent=True,
        )
    with torch.no_grad():  # the output layer starts at zero: give it weights
        for parameter in model.parameters():
            parameter.add_(0.05 * torch.randn(parameter.shape, generator=_seeded(1)))
    return model


def _seeded(seed):
    return torch.Generator().manual_seed(seed)


@pytest.mark.parametrize("kind", ["dilated_conv", "csdi"])
@pytest.mark.parametrize("n_side", [0, 2])
def test_channel_independent_model_predicts_each_feature_as_its_own_window(kind, n_side):
    model = channel_independent_model(kind, n_side).eval()
    generator = _seeded(0)
    values = torch.randn(2, N_FEATURES, LENGTH, generator=generator)
    given = torch.rand(2, N_FEATURES, LENGTH, generator=generator) < 0.5
    side = torch.randn(2, n_side, LENGTH, generator=generator) if n_side else None
    x_t = torch.randn(2, N_FEATURES, LENGTH, generator=generator)
    t = torch.tensor([0.3, 0.8])
    with torch.no_grad():
        joint = model.predict_x0(x_t, t, Condition(values, given, side))
        for feature in range(N_FEATURES):
            alone = model.predict_x0(
                x_t[:, [feature]],
                t,
                Condition(values[:, [feature]], given[:, [feature]], side),
            )
            torch.testing.assert_close(joint[:, [feature]], alone)
    assert model.n_features is None


def test_channel_independent_model_serves_any_number_of_features_and_round_trips():
    model = channel_independent_model().eval()
    for n_features in (1, 5):
        condition = Condition(
            torch.zeros(1, n_features, LENGTH),
            torch.zeros(1, n_features, LENGTH, dtype=bool),
        )
        samples = generate(model, condition, 2, n_steps=3, generator=_seeded(0))
        assert samples.shape == (1, 2, n_features, LENGTH)
    copy = pickle.loads(pickle.dumps(model))
    assert copy.channel_independent and copy.config() == model.config()


def test_channel_independent_model_refuses_a_network_of_several_features():
    with pytest.raises(ValueError, match="one feature"):
        DiffusionModel(
            DilatedConvNetwork(channels=4, n_layers=1).network_config(3, 0),
            make_schedule("cosine"),
            channel_independent=True,
        )
