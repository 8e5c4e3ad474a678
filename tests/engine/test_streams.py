"""Named random streams: one key, one stream; any other key, another stream."""

import pytest

from sktime_diffusion.engine.streams import PURPOSES, random_stream, torch_seed


def test_one_key_gives_one_stream_and_every_key_number_matters():
    first = torch_seed(random_stream(0, "generator sampling", 0, 4, 16))
    assert torch_seed(random_stream(0, "generator sampling", 0, 4, 16)) == first
    others = [
        random_stream(1, "generator sampling", 0, 4, 16),
        random_stream(0, "generator sampling", 1, 4, 16),
        random_stream(0, "generator sampling", 0, 8, 16),
        random_stream(0, "generator sampling", 0, 4, 17),
    ]
    seeds = {torch_seed(stream) for stream in others}
    assert len(seeds) == len(others) and first not in seeds


def test_spawned_sub_streams_are_the_key_extended_by_their_number():
    stream = random_stream(3, "generator sampling", 2, 5)
    children = stream.spawn(3)
    for number, child in enumerate(children):
        extended = random_stream(3, "generator sampling", 2, 5, number)
        assert torch_seed(child) == torch_seed(extended)
    assert len({torch_seed(child) for child in children}) == 3


def test_purposes_have_distinct_numbers_and_an_unknown_purpose_is_refused():
    assert len(set(PURPOSES.values())) == len(PURPOSES)
    with pytest.raises(ValueError, match="unknown random stream purpose 'other'"):
        random_stream(0, "other")


def test_torch_seeds_are_64_bit_and_accepted_by_torch():
    torch = pytest.importorskip("torch")
    seed = torch_seed(random_stream(0, "generator sampling", 0))
    assert 0 <= seed < 2**64
    torch.Generator().manual_seed(seed)


def _package_sources():
    import pathlib

    import sktime_diffusion

    root = pathlib.Path(sktime_diffusion.__file__).parent
    return {path: path.read_text() for path in root.rglob("*.py")}


def test_no_seed_is_offset_by_a_number_outside_the_streams_module():
    import re

    offset = re.compile(r"seed_?\s*[+*]\s*\d|\d\s*[+*]\s*(self\.)?seed")
    found = [
        f"{path.name}: {line.strip()}"
        for path, text in _package_sources().items()
        for line in text.splitlines()
        if offset.search(line) and not line.lstrip().startswith("#")
    ]
    assert found == []


def test_every_purpose_is_drawn_from_somewhere_in_the_package():
    text = "\n".join(
        source for path, source in _package_sources().items() if path.name != "streams.py"
    )
    unused = [purpose for purpose in PURPOSES if f'"{purpose}"' not in text]
    assert unused == []
