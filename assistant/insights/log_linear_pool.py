"""The log-linear pool that stacks the sentiment model's branches (any per-class probability matrices).

Knows probabilities and their fit by weighted log-loss; knows nothing about texts.
"""
from __future__ import annotations

import numpy as np


class LogLinearPool:
    """The stacker: p(class) proportional to prod_b p_b(class) ** w_b * exp(bias_class), with w_b >= 0.

    A log-linear pool of the branches' probabilities, fitted on out-of-fold predictions by weighted
    log-loss. Unlike a free logistic regression over the stacked log-probabilities it cannot turn a
    branch upside down when the out-of-fold predictions are poor (small or oddly grouped data)."""

    def __init__(self, l2: float = 1e-3, class_weight: str | None = "balanced"):
        self.l2, self.class_weight = l2, class_weight
        self.weights = self.bias = None

    def _logits(self, parts: list[np.ndarray], theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        L = np.stack([np.log(np.clip(p, 1e-4, 1.0)) for p in parts])  # (branches, n, classes)
        return L, np.tensordot(theta[:len(parts)], L, axes=1) + theta[len(parts):]

    def fit(self, parts: list[np.ndarray], y: np.ndarray, classes: list[str]) -> "LogLinearPool":
        from scipy.optimize import minimize

        position = {c: i for i, c in enumerate(classes)}
        idx = np.array([position[v] for v in y])
        counts = np.bincount(idx, minlength=len(classes)).astype(float)
        sample_w = (len(y) / (len(classes) * counts))[idx] if self.class_weight == "balanced" else np.ones(len(y))
        sample_w /= sample_w.sum()
        onehot = np.eye(len(classes))[idx]
        B = len(parts)

        def loss(theta):
            L, z = self._logits(parts, theta)
            z = z - z.max(axis=1, keepdims=True)
            logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
            d = (np.exp(logp) - onehot) * sample_w[:, None]  # d loss / d logits
            grad = np.concatenate([np.einsum("bnk,nk->b", L, d), d.sum(axis=0)])
            grad[:B] += 2 * self.l2 * theta[:B]
            return -(sample_w * (onehot * logp).sum(axis=1)).sum() + self.l2 * (theta[:B] ** 2).sum(), grad

        start = np.concatenate([np.ones(B) / B, np.zeros(len(classes))])
        bounds = [(0.0, None)] * B + [(None, None)] * len(classes)
        theta = minimize(loss, start, jac=True, bounds=bounds, method="L-BFGS-B").x
        self.weights, self.bias = theta[:B], theta[B:]
        return self

    def predict_proba(self, parts: list[np.ndarray]) -> np.ndarray:
        _, z = self._logits(parts, np.concatenate([self.weights, self.bias]))
        z = np.exp(z - z.max(axis=1, keepdims=True))
        return z / z.sum(axis=1, keepdims=True)
