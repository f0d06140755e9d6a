"""The drift suite's data tests and the kind of column each tests.

A module of its own, without pydantic: the suite (and ``lifecycle data-drift``, which starts
without the config's imports) reads it, and so does :mod:`lifecycle.config`.
"""

from __future__ import annotations

from typing import Literal

DataTest = Literal["ks", "chi2", "psi", "wasserstein", "jensenshannon"]
# The drift suite's tests of each kind of column (components/detect_drift/suite/run.py).
DATA_TESTS_BY_KIND: dict[str, tuple[DataTest, ...]] = {
    "numeric": ("ks", "psi", "wasserstein"),
    "categorical": ("chi2", "jensenshannon", "psi"),
}
