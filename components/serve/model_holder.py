"""The served model: loaded from the registry, verified, and swapped when ``production`` moves.

A request reads :attr:`ModelHolder.current` once and uses that model for its prediction, its
response and its log record, so a swap between two requests never mixes versions. A new
version is loaded and verified beside the old one, on the reload thread, and only then
replaces it in one reference assignment: no request ever waits for a load or sees a
half-loaded model, and a version that fails verification is never served.
"""

from __future__ import annotations

import logging
import threading
import time
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from components.serve.schema import InputSchema
from lifecycle.errors import LifecycleError
from lifecycle.registry import ModelRegistry, ModelVersion
from lifecycle.store import Store

_log = logging.getLogger(__name__)
PRODUCTION = "production"
# The fast path (a float64 matrix) must give what a DataFrame gives, to within this.
_AGREEMENT = 1e-9
_NO_NAMES_WARNING = "X does not have valid feature names"


class VerificationError(LifecycleError):
    """A model version that must not be served: wrong features, or it cannot predict."""


@dataclass(frozen=True)
class LoadedModel:
    """One verified model version, ready to predict."""

    name: str
    version: str
    estimator: Any
    metadata: ModelVersion
    feature_names: tuple[str, ...]
    # True: the estimator needs a DataFrame (a pipeline with categorical columns); False: a
    # float64 matrix in feature order, which skips pandas on every request.
    frame_input: bool

    def predict(self, columns: dict[str, np.ndarray], rows: int) -> np.ndarray:
        """Predictions (float64, one per row) for ``columns`` in :attr:`feature_names` order."""
        if self.frame_input:
            features: Any = pd.DataFrame(columns, columns=list(self.feature_names))
        elif len(columns) == 1:
            features = next(iter(columns.values())).reshape(rows, 1)
        else:
            features = np.column_stack([columns[name] for name in self.feature_names])
        return np.asarray(self.estimator.predict(features), dtype=np.float64).reshape(rows)


def probe_columns(schema: InputSchema) -> dict[str, np.ndarray]:
    """Three rows within each feature's range (categories unseen by the model are allowed)."""
    columns: dict[str, np.ndarray] = {}
    for feature in schema.features:
        if feature.categorical:
            columns[feature.name] = np.asarray(["", "a", "b"], dtype=object)
            continue
        values = np.asarray([0.0, 1.0, -1.0])
        low = feature.minimum if feature.minimum is not None else -np.inf
        high = feature.maximum if feature.maximum is not None else np.inf
        columns[feature.name] = np.clip(values, low, high)
    return columns


def verify(name: str, estimator: Any, metadata: ModelVersion, schema: InputSchema) -> LoadedModel:
    """Check that a loaded version serves the schema, and choose its input form.

    Raises:
        VerificationError: its features differ from the schema's, or it cannot predict finite
            values for a probe of three rows.
    """
    if tuple(metadata.features) != schema.names:
        raise VerificationError(
            f"model {name!r} {metadata.version} was trained on features {metadata.features}, "
            f"the serving schema has {list(schema.names)}"
        )
    probe = probe_columns(schema)
    as_frame = LoadedModel(name, metadata.version, estimator, metadata, schema.names, True)
    try:
        expected = as_frame.predict(probe, 3)
    except Exception as exc:  # any estimator failure means: do not serve it
        raise VerificationError(
            f"model {name!r} {metadata.version} cannot predict a probe row: {exc}"
        ) from None
    if not np.isfinite(expected).all():
        raise VerificationError(
            f"model {name!r} {metadata.version} predicts non-finite values for a probe row"
        )
    if not schema.all_numeric:
        return as_frame
    as_matrix = LoadedModel(name, metadata.version, estimator, metadata, schema.names, False)
    # The matrix holds the trained columns in the trained order (checked below against a
    # DataFrame), so sklearn's reminder that the model was fitted with column names is noise
    # on every request of this process.
    warnings.filterwarnings("ignore", message=_NO_NAMES_WARNING, category=UserWarning)
    try:
        fast = as_matrix.predict(probe, 3)
    except Exception:  # the estimator insists on a DataFrame: serve it one
        return as_frame
    agrees = np.allclose(fast, expected, rtol=_AGREEMENT, atol=_AGREEMENT)
    return as_matrix if agrees else as_frame


@dataclass(frozen=True)
class HolderStatus:
    """What the holder can tell the metrics and the readiness probe."""

    ready: bool
    version: str | None
    reloads: int
    failures: int
    last_error: str | None


class ModelHolder:
    """The production version of one model, reloaded when the alias moves."""

    def __init__(self, store: Store, model_name: str, schema: InputSchema):
        self._registry = ModelRegistry(store, model_name)
        self._name = model_name
        self._schema = schema
        self.current: LoadedModel | None = None
        self._reloads = 0
        self._failures = 0
        self._last_error: str | None = "the production model is not loaded yet"
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def status(self) -> HolderStatus:
        current = self.current
        return HolderStatus(
            ready=current is not None,
            version=current.version if current else None,
            reloads=self._reloads,
            failures=self._failures,
            last_error=self._last_error,
        )

    def refresh(self) -> bool:
        """Read the ``production`` alias; load, verify and swap in a version it newly names.

        Never raises: a version that cannot be read or verified is not served (the previous
        one stays), and the reason is kept for the readiness probe and the log.

        Returns:
            True when a new version is now served.
        """
        try:
            version = self._registry.resolve(PRODUCTION)
            current = self.current
            if current is not None and current.version == version:
                return False
            estimator, metadata = self._registry.load_artifact(version)
            loaded = verify(self._name, estimator, metadata, self._schema)
        except LifecycleError as exc:
            self._failures += 1
            if str(exc) != self._last_error:
                _log.warning("model %s not (re)loaded: %s", self._name, exc)
            self._last_error = str(exc)
            return False
        previous = self.current
        self.current = loaded
        self._reloads += 1
        self._last_error = None
        _log.warning(
            "serving model %s %s (was %s)",
            self._name,
            loaded.version,
            previous.version if previous else "none",
        )
        return True

    def start(self, interval: float) -> None:
        """Load now and then every ``interval`` seconds, on a daemon thread."""

        def follow() -> None:
            while not self._stop.is_set():
                started = time.monotonic()
                self.refresh()
                self._stop.wait(max(0.0, interval - (time.monotonic() - started)))

        self._thread = threading.Thread(target=follow, name="model-reload", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
