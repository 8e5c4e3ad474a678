"""sktime-diffusion: diffusion models for time series as sktime estimators."""

__version__ = "0.1.0.dev0"
