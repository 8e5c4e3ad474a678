"""sktime-diffusion: diffusion models for time series as sktime estimators."""

from .backbone import DiffusionBackbone
from .detection import DiffusionAnomalyDetector
from .forecasting import DiffusionForecaster
from .generation import DiffusionGenerator
from .imputation import DiffusionImputer
from .networks import CSDINetwork, DilatedConvNetwork

__version__ = "0.1.0.dev0"

__all__ = [
    "CSDINetwork",
    "DiffusionBackbone",
    "DiffusionAnomalyDetector",
    "DiffusionForecaster",
    "DiffusionGenerator",
    "DiffusionImputer",
    "DilatedConvNetwork",
    "__version__",
]
