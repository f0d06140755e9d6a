"""Small builders shared by the tests."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd

from lifecycle.store import Store

COURSE = Path(__file__).resolve().parent.parent / "pipelines" / "scenarios" / "course"


def course_frame(name: str) -> pd.DataFrame:
    """A course CSV (``data_init``, ``batch_3``, …) as a DataFrame."""
    return pd.read_csv(COURSE / f"{name}.csv")


def store_listing(store: Store) -> dict[str, str]:
    """Every key of a store with the sha256 of its object: compare before and after a failure."""
    listed = store.list_keys()
    return {
        key: hashlib.sha256(data).hexdigest()
        for key, data in zip(listed, store.get_many(listed), strict=True)
    }
