"""Ordinary least squares fitted chunk by chunk, for a training set of any size.

scikit-learn's ``LinearRegression.fit`` holds the data several times over (the features
validated, centred, then copied again by LAPACK: about four copies of X beside the frame),
which on a 50-million-row batch is several GB. The same least-squares solution is found here in
one pass over record batches: each chunk's ``[1, X, y]`` is reduced to its R factor (a QR
decomposition), stacked with the running one and reduced again (the "TSQR" of Demmel et al.),
so memory holds one chunk and a small triangle. QR is backward stable: the coefficients are
those of ``scipy.linalg.lstsq`` on the whole data to rounding error, and the minimum-norm
solution, rank and singular values of the centred features come out as scikit-learn's.

A ``Ridge`` is solved from the same factor: its penalty ``alpha·‖w‖²`` on the centred
problem is the least-squares problem of ``R`` stacked over ``√alpha·I`` (scikit-learn's
solution to rounding, whichever solver it would pick, as they all solve the same system).

The result is a fitted ``LinearRegression`` or ``Ridge`` like any other: it is saved, loaded
and used the same way.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import scipy.linalg
from sklearn.linear_model import LinearRegression, Ridge


def fits_in_chunks(estimator: Any) -> bool:
    """Whether ``estimator`` is one this module fits: a plain ``LinearRegression``, or a
    ``Ridge`` with one penalty (no preprocessing pipeline, no sign constraint)."""
    if type(estimator) is Ridge:
        return not estimator.positive and np.ndim(estimator.alpha) == 0
    return type(estimator) is LinearRegression and not estimator.positive


class LeastSquaresInChunks:
    """The running R factor of ``[1, X, y]`` (``[X, y]`` without an intercept) and the
    running means, over the chunks :meth:`add` has seen."""

    def __init__(self, features: Sequence[str], intercept: bool = True):
        self.features = list(features)
        self.intercept = intercept
        self.rows = 0
        self._means = np.zeros(len(self.features) + 1)
        self._r: np.ndarray | None = None

    def add(self, x: np.ndarray, y: np.ndarray) -> None:
        """Count one chunk: its features (rows × features) and its target.

        Raises:
            ValueError: a value is NaN or infinite (as scikit-learn refuses it).
        """
        x = np.asarray(x, dtype=np.float64).reshape(len(y), len(self.features))
        y = np.asarray(y, dtype=np.float64)
        if not (np.isfinite(x).all() and np.isfinite(y).all()):
            raise ValueError("Input contains NaN or infinity")
        if y.size == 0:
            return
        offset = 1 if self.intercept else 0
        block = np.empty((y.size, offset + len(self.features) + 1))
        if offset:
            block[:, 0] = 1.0
        block[:, offset:-1] = x
        block[:, -1] = y
        chunk_means = block[:, offset:].mean(axis=0)
        rows = self.rows + y.size
        self._means += (chunk_means - self._means) * (y.size / rows)
        self.rows = rows
        r = scipy.linalg.qr(block, mode="r", overwrite_a=True, check_finite=False)[0]
        r = r[: block.shape[1]]
        if self._r is not None:
            stacked = np.vstack([self._r, r])
            r = scipy.linalg.qr(stacked, mode="r", overwrite_a=True, check_finite=False)[0]
            r = r[: block.shape[1]]
        self._r = r

    def fitted(
        self, estimator: LinearRegression | Ridge, named_features: bool = True
    ) -> LinearRegression | Ridge:
        """``estimator`` with the (penalised, for a ``Ridge``) least-squares solution of
        everything added, set as ``fit`` would set it (``coef_``, ``intercept_``,
        ``n_features_in_``, ``feature_names_in_`` unless not ``named_features`` (fitted on
        an array); ``rank_`` and ``singular_`` of a ``LinearRegression``, ``n_iter_`` of a
        ``Ridge``).

        Raises:
            ValueError: no rows were added.
        """
        if self._r is None or self.rows == 0:
            raise ValueError("Found array with 0 sample(s) while a minimum of 1 is required.")
        offset = 1 if self.intercept else 0
        count = len(self.features)
        # Below the intercept's row the R factor is that of the centred features (the
        # orthogonal complement of the column of ones), as scikit-learn centres them.
        features = self._r[offset : offset + count, offset : offset + count]
        target = self._r[offset : offset + count, -1]
        if isinstance(estimator, Ridge):
            penalty = np.sqrt(float(estimator.alpha)) * np.eye(count)
            features = np.vstack([features, penalty])
            target = np.concatenate([target, np.zeros(count)])
        # The rank cutoff scaled by the rows the factor stands for (numpy's rule): a column
        # dependent on others (one-hot columns beside the intercept) leaves rounding noise
        # of that order on the factor's diagonal, which must count as zero, as it does when
        # scikit-learn solves on the rows themselves.
        cutoff = np.finfo(np.float64).eps * max(self.rows, count)
        coef, _, rank, singular = scipy.linalg.lstsq(
            features, target, cond=cutoff, check_finite=False
        )
        estimator.coef_ = coef
        if isinstance(estimator, Ridge):
            estimator.n_iter_ = None  # a direct solution, as scikit-learn's default solver
        else:
            estimator.rank_ = int(rank)
            estimator.singular_ = singular
        means = self._means
        estimator.intercept_ = (
            np.float64(means[-1] - np.dot(means[:-1], coef)) if self.intercept else 0.0
        )
        estimator.n_features_in_ = count
        if named_features:
            estimator.feature_names_in_ = np.asarray(self.features, dtype=object)
        return estimator
