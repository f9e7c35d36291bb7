"""Probability calibration: temperature scaling and expected calibration error.

A fine-tuned classifier is usually over-confident. One scalar temperature ``T``,
fitted on the dev split after training (``softmax(logits / T)``), fixes most of
that without changing any prediction (the argmax is the same for every T > 0).
"""

from __future__ import annotations

import numpy as np


def softmax(logits: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    z = np.asarray(logits, dtype=np.float64) / temperature
    z -= z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


def fit_temperature(logits: np.ndarray, label_ids: np.ndarray) -> float:
    """The temperature that minimises the negative log-likelihood of ``label_ids``."""
    from scipy.optimize import minimize_scalar

    logits = np.asarray(logits, dtype=np.float64)
    label_ids = np.asarray(label_ids)
    if len(label_ids) == 0:
        return 1.0

    def nll(log_t):
        p = softmax(logits, float(np.exp(log_t)))
        return -np.mean(np.log(p[np.arange(len(label_ids)), label_ids] + 1e-12))

    result = minimize_scalar(nll, bounds=(np.log(0.05), np.log(20.0)), method="bounded")
    return float(np.exp(result.x))


def expected_calibration_error(probs: np.ndarray, label_ids: np.ndarray, n_bins: int = 15) -> float:
    """ECE of the top-label confidence over ``n_bins`` equal-width bins."""
    probs = np.asarray(probs, dtype=np.float64)
    label_ids = np.asarray(label_ids)
    if len(label_ids) == 0:
        return float("nan")
    confidence = probs.max(axis=1)
    correct = probs.argmax(axis=1) == label_ids
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    bins = np.clip(np.digitize(confidence, edges[1:-1], right=True), 0, n_bins - 1)
    ece = 0.0
    for b in range(n_bins):
        in_bin = bins == b
        if in_bin.any():
            ece += in_bin.mean() * abs(correct[in_bin].mean() - confidence[in_bin].mean())
    return float(ece)
