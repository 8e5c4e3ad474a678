"""The project's own promises: README commands, CI script, package metadata, docstrings."""

import inspect
import re
from pathlib import Path

import pytest
import tomllib

from sktime_diffusion import (
    DiffusionAnomalyDetector,
    DiffusionForecaster,
    DiffusionGenerator,
    DiffusionImputer,
)
from sktime_diffusion._diffusion import ENGINE_PARAMETER_NAMES

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
    assert project["requires-python"] == ">=3.10"
    names = {re.split(r"[<>=\[ ]", dep)[0] for dep in project["dependencies"]}
    assert {"sktime", "skpro", "scikit-learn", "torch", "numpy", "pandas", "tqdm"} <= names
    assert {"plot", "test", "bench", "docs"} <= set(project["optional-dependencies"])


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
