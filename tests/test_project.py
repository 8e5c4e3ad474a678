"""The project's own promises: README commands, CI script, package metadata, docstrings."""

import inspect
import os
import re
import sys
import tomllib
from pathlib import Path

import pytest

from sktime_diffusion import (
    DiffusionAnomalyDetector,
    DiffusionForecaster,
    DiffusionGenerator,
    DiffusionImputer,
)
from sktime_diffusion._estimator_engine import ENGINE_PARAMETER_NAMES

ROOT = Path(__file__).resolve().parents[1]


def _readme_commands():
    return re.findall(r"```bash\n(.+?)\n```", (ROOT / "README.md").read_text(), re.S)


def test_readme_has_exactly_two_quick_start_commands_pinning_torch():
    commands = _readme_commands()
    assert len(commands) == 2
    for command in commands:
        assert "\n" not in command.strip()
        assert command.index("pip install torch==2.13.0") < command.index("pip install -e")


def test_ci_runs_readme_command_two_verbatim():
    assert _readme_commands()[1] in (ROOT / ".ci" / "run").read_text().splitlines()


def test_package_metadata_names_the_dependencies():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["name"] == "sktime-diffusion"
    names = {re.split(r"[<>=\[ ]", dep)[0] for dep in project["dependencies"]}
    assert {"sktime", "skpro", "scikit-learn", "torch", "numpy", "pandas", "tqdm"} <= names
    assert {"plot", "test", "bench", "docs"} <= set(project["optional-dependencies"])


def _pyproject():
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def _minimum_python() -> tuple[int, int]:
    """The lowest Python that ``requires-python`` admits, as (major, minor)."""
    spec = _pyproject()["project"]["requires-python"]
    match = re.fullmatch(r">=\s*3\.(\d+)", spec)
    assert match, f"requires-python should read '>=3.N', got {spec!r}"
    return 3, int(match[1])


def _version(text: str) -> tuple[int, int]:
    major, minor = text.split(".")
    return int(major), int(minor)


def test_requires_python_ruff_target_classifiers_readme_and_docs_name_one_minimum():
    minimum = _minimum_python()
    target = _pyproject()["tool"]["ruff"]["target-version"]
    assert target == f"py{minimum[0]}{minimum[1]}"
    classifier = re.compile(r"Programming Language :: Python :: (3\.\d+)")
    listed = [
        _version(match[1])
        for text in _pyproject()["project"]["classifiers"]
        if (match := classifier.fullmatch(text))
    ]
    assert listed and min(listed) == minimum, listed
    readme = re.findall(r"Python >= (3\.\d+)", (ROOT / "README.md").read_text())
    index = (ROOT / "docs" / "index.rst").read_text()
    docs = re.findall(r"Python (3\.\d+) or newer", index)
    assert readme and docs
    assert {_version(text) for text in readme + docs} == {minimum}


def test_the_tests_run_on_a_claimed_python_and_ci_runs_the_minimum():
    # the claimed minimum is true only where something runs it: CI (CI=true) runs the
    # suite on one interpreter, so that interpreter must be the minimum; raising the
    # CI machine's Python means raising requires-python, or installing the old one
    minimum = _minimum_python()
    running = sys.version_info[:2]
    assert running >= minimum
    if os.environ.get("CI") == "true":
        assert running == minimum, (
            f"CI runs Python {running[0]}.{running[1]}, but the project claims "
            f"Python >= {minimum[0]}.{minimum[1]}, which no run checks"
        )


@pytest.mark.parametrize(
    "estimator",
    [DiffusionForecaster, DiffusionImputer, DiffusionAnomalyDetector, DiffusionGenerator],
)
def test_every_estimator_documents_the_shared_parameters(estimator):
    doc = estimator.__doc__
    assert "{engine_parameters}" not in doc
    for name in ENGINE_PARAMETER_NAMES:
        assert f"\n    {name} : " in doc, name
    # each documented once, with the estimator's own default of parameterisation
    assert doc.count("\n    parameterisation : ") == 1
    default = inspect.signature(estimator).parameters["parameterisation"].default
    assert f'parameterisation : {{"v", "epsilon", "x0"}}, default="{default}"' in doc
