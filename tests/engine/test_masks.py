import dataclasses

import pytest
import torch

import sktime_diffusion.engine.masks as masks_module
from sktime_diffusion.engine import (
    MASK_PATTERNS,
    MaskStrategy,
    draw_given_mask,
    grating_hidden,
)


def _observed(batch=256, n_features=3, length=20, missing=0.2, seed=0):
    generator = torch.Generator().manual_seed(seed)
    return torch.rand(batch, n_features, length, generator=generator) >= missing


@pytest.mark.parametrize(
    "strategy",
    [
        MaskStrategy(),
        MaskStrategy(random=0, block=1),
        MaskStrategy(random=0, suffix=1),
        MaskStrategy(random=0, historical=1),
        MaskStrategy(random=0, grating=1),
        MaskStrategy(random=0, unconditional=1),
        MaskStrategy(random=1, block=1, suffix=1, historical=1, grating=1),
    ],
)
@pytest.mark.parametrize("gpu_policy", [False, True])
def test_given_is_a_subset_of_observed_and_leaves_targets(
    strategy, gpu_policy, monkeypatch
):
    # on a GPU the target kept for windows that lack one is drawn whether or not any
    # window lacks one (reading the flag would wait for the device)
    monkeypatch.setattr(masks_module, "host_waits_to_read", lambda device: gpu_policy)
    observed = _observed()
    given = draw_given_mask(observed, strategy, torch.Generator().manual_seed(1))
    assert given.dtype == torch.bool and given.shape == observed.shape
    assert not bool((given & ~observed).any())
    assert bool((observed & ~given).flatten(1).any(dim=1).all())


def test_masks_are_seeded():
    observed = _observed()
    strategy = MaskStrategy(random=1, block=1, suffix=1)
    first = draw_given_mask(observed, strategy, torch.Generator().manual_seed(3))
    again = draw_given_mask(observed, strategy, torch.Generator().manual_seed(3))
    other = draw_given_mask(observed, strategy, torch.Generator().manual_seed(4))
    assert torch.equal(first, again) and not torch.equal(first, other)


def test_suffix_hides_the_last_steps_of_every_feature():
    observed = torch.ones(8, 2, 10, dtype=torch.bool)
    given = draw_given_mask(observed, MaskStrategy(random=0, suffix=1, suffix_length=3))
    assert bool(given[..., :7].all()) and not bool(given[..., 7:].any())


def test_block_hides_one_contiguous_gap_per_feature():
    observed = torch.ones(64, 2, 30, dtype=torch.bool)
    given = draw_given_mask(
        observed, MaskStrategy(random=0, block=1), torch.Generator().manual_seed(0)
    )
    hidden = (~given).to(torch.int8)
    starts = (hidden.diff(dim=-1) == 1).sum(-1) + hidden[..., 0]
    assert bool((starts <= 1).all())
    assert int(hidden.sum(-1).max()) <= 15


def test_random_ratio_spans_its_range():
    observed = torch.ones(2000, 1, 50, dtype=torch.bool)
    given = draw_given_mask(
        observed,
        MaskStrategy(min_ratio=0.2, max_ratio=0.6),
        torch.Generator().manual_seed(0),
    )
    hidden_share = (~given).float().mean(dim=(1, 2))
    assert 0.04 < float(hidden_share.min()) and float(hidden_share.max()) < 0.8
    assert abs(float(hidden_share.mean()) - 0.4) < 0.02


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"random": 0}, "positive sum"),
        ({"block": -1}, "weights"),
        ({"min_ratio": 0.8, "max_ratio": 0.2}, "min_ratio"),
        ({"suffix_length": 0}, "suffix_length"),
        ({"max_block_fraction": 0}, "max_block_fraction"),
    ],
)
def test_bad_mask_strategies_are_named(kwargs, message):
    with pytest.raises(ValueError, match=message):
        MaskStrategy(**kwargs)


def test_grating_phases_are_complements_that_hide_alternate_slices():
    counts = torch.tensor([2, 4, 3])
    even = grating_hidden(12, counts, torch.zeros(3, dtype=torch.long))
    odd = grating_hidden(12, counts, torch.ones(3, dtype=torch.long))
    assert torch.equal(even, ~odd)
    assert even[0].tolist() == [True] * 6 + [False] * 6
    assert even[1].tolist() == ([True] * 3 + [False] * 3) * 2
    assert even[2].tolist() == [True] * 4 + [False] * 4 + [True] * 4


def test_grating_training_masks_hide_whole_time_slices_of_every_feature():
    observed = torch.ones(64, 3, 16, dtype=torch.bool)
    strategy = MaskStrategy(random=0, grating=1, grating_slices=(2, 8))
    given = draw_given_mask(observed, strategy, torch.Generator().manual_seed(0))
    assert bool((given == given[:, :1]).all())  # same steps hidden in every feature
    hidden_share = (~given[:, 0]).float().mean(dim=1)
    assert bool(torch.allclose(hidden_share, torch.tensor(0.5)))
    patterns = {tuple(row.tolist()) for row in given[:, 0]}
    assert len(patterns) == 4  # two slice counts x two phases


def test_grating_slices_must_be_at_least_two():
    with pytest.raises(ValueError, match="grating_slices"):
        MaskStrategy(grating=1, grating_slices=(1, 4))


def test_unconditional_windows_are_given_nothing():
    observed = _observed()
    strategy = MaskStrategy(random=0, unconditional=1)
    given = draw_given_mask(observed, strategy, torch.Generator().manual_seed(0))
    assert not bool(given.any())


def test_every_mask_pattern_is_weighted_by_the_strategy_field_of_its_name():
    weight_fields = {
        field.name for field in dataclasses.fields(MaskStrategy) if field.type == "float"
    } - {"min_ratio", "max_ratio", "max_block_fraction"}
    assert set(MASK_PATTERNS) == weight_fields
    strategy = MaskStrategy(random=0.5, block=0.25, grating=2)
    mixture = strategy.mixture()
    assert list(mixture) == list(MASK_PATTERNS)
    assert {name: weight for name, (weight, _) in mixture.items()} == {
        "random": 0.5,
        "block": 0.25,
        "suffix": 0.0,
        "historical": 0.0,
        "grating": 2.0,
        "unconditional": 0.0,
    }
    assert all(mixture[name][1] is MASK_PATTERNS[name] for name in MASK_PATTERNS)
