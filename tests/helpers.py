"""Small builders shared by the tests."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

COURSE = Path(__file__).resolve().parent.parent / "pipelines" / "scenarios" / "course"


def course_frame(name: str) -> pd.DataFrame:
    """A course CSV (``data_init``, ``batch_3``, …) as a DataFrame."""
    return pd.read_csv(COURSE / f"{name}.csv")


def store_listing(root: Path) -> dict[str, bytes]:
    """Every file under a local store with its bytes: compare before and after a failure."""
    return {
        str(path.relative_to(root)): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }
