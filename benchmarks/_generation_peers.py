"""The generation benchmark's peers: a fitted Gaussian and copies of real windows."""

from __future__ import annotations

import numpy as np


def gaussian_windows(train: np.ndarray, n: int, random_state: int = 0) -> np.ndarray:
    """Draw ``n`` windows from a multivariate Gaussian fitted to the training windows.

    The windows are flattened (``length * n_columns`` dimensions); mean and covariance
    are their sample mean and covariance, with a ridge of 1e-8 times the mean variance
    so that a singular covariance can still be sampled.

    Parameters
    ----------
    train : np.ndarray of shape (n_train, length, n_columns)
    n : int
    random_state : int

    Returns
    -------
    np.ndarray of shape (n, length, n_columns)
    """
    flat = train.reshape(len(train), -1)
    mean = flat.mean(axis=0)
    covariance = np.cov(flat, rowvar=False)
    covariance += 1e-8 * np.trace(covariance) / len(mean) * np.eye(len(mean))
    eigenvalues, eigenvectors = np.linalg.eigh(covariance)
    root = eigenvectors * np.sqrt(np.clip(eigenvalues, 0, None))
    noise = np.random.default_rng(random_state).standard_normal((n, len(mean)))
    return (mean + noise @ root.T).reshape(n, *train.shape[1:])


def bootstrap_windows(train: np.ndarray, n: int, random_state: int = 0) -> np.ndarray:
    """Copies of ``n`` training windows drawn with replacement (blocks of one window).

    The floor of copying: real windows, so every score but the nearest-neighbour ratio
    (0) is what the data itself gets against held-out windows.
    """
    rows = np.random.default_rng(random_state).integers(0, len(train), size=n)
    return train[rows].copy()
