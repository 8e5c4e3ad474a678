"""sktime's own conformance suite, one pytest case per check (spread over xdist workers).

The union of the cases is ``check_estimator(Estimator, raise_exceptions=True)``.
"""

import pytest
from sktime.utils.estimator_checks import check_estimator, parametrize_with_checks

from sktime_diffusion import (
    DiffusionAnomalyDetector,
    DiffusionForecaster,
    DiffusionGenerator,
    DiffusionImputer,
)

ESTIMATORS = [
    DiffusionForecaster,
    DiffusionImputer,
    DiffusionAnomalyDetector,
    DiffusionGenerator,
]


@pytest.mark.slow
@parametrize_with_checks(ESTIMATORS)
def test_sktime_conformance(obj, test_name):
    check_estimator(obj, tests_to_run=test_name, raise_exceptions=True)
