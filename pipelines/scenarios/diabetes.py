"""A second scenario with ten features, from scikit-learn's bundled diabetes data.

The 442 patients are shuffled with a fixed seed into a training set, a test set and
six batches. From batch 4 on, drift is injected: ``bmi`` shifts upwards and the
target responds more strongly to it, as if the population and the disease changed.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.datasets import load_diabetes

from lifecycle.config import ColumnSpec, DriftConfig, LifecycleConfig, ModelConfig, SchemaConfig
from pipelines.scenarios import Scenario

SEED = 20221
TRAINING_ROWS, TEST_ROWS, BATCH_ROWS, BATCHES = 150, 50, 40, 6
DRIFT_FROM_BATCH = 4


def diabetes_config() -> LifecycleConfig:
    frame = load_diabetes(as_frame=True).frame
    features = tuple(
        ColumnSpec(name=name, kind="categorical" if name == "sex" else "numeric")
        for name in frame.columns
        if name != "target"
    )
    return LifecycleConfig(
        schema=SchemaConfig(features=features, target=ColumnSpec(name="target")),
        model=ModelConfig(
            name="diabetes", estimator="sklearn.linear_model.Ridge", params={"alpha": 0.1}
        ),
        # Eleven columns are tested per batch: a strict p-value keeps false alarms near 1 %;
        # the error bounds sit above the model's test RMSE (~61) and below its test R² (~0.45).
        drift=DriftConfig(
            history_tests=("fixed",), fixed_thresholds={"RMSE": 80.0, "r2": 0.2}, p_value=0.001
        ),
    )


def _inject_drift(batch: pd.DataFrame, strength: float) -> pd.DataFrame:
    drifted = batch.copy()
    drifted["bmi"] = drifted["bmi"] + 0.03 * strength
    drifted["target"] = drifted["target"] + 900.0 * strength * drifted["bmi"].clip(lower=0)
    return drifted


def diabetes_scenario(workdir: Path) -> Scenario:
    """Write the scenario's CSV files under ``workdir/diabetes`` and describe them."""
    frame = load_diabetes(as_frame=True).frame
    frame["sex"] = np.where(frame["sex"] > 0, "M", "F")
    frame = frame.sample(frac=1.0, random_state=SEED).reset_index(drop=True)
    folder = Path(workdir) / "diabetes"
    folder.mkdir(parents=True, exist_ok=True)
    training = frame.iloc[:TRAINING_ROWS]
    test = frame.iloc[TRAINING_ROWS : TRAINING_ROWS + TEST_ROWS]
    training.to_csv(folder / "data_init.csv", index=False)
    test.to_csv(folder / "data_test.csv", index=False)
    batches = []
    start = TRAINING_ROWS + TEST_ROWS
    for number in range(1, BATCHES + 1):
        batch = frame.iloc[start + (number - 1) * BATCH_ROWS : start + number * BATCH_ROWS]
        if number >= DRIFT_FROM_BATCH:
            batch = _inject_drift(batch, strength=number - DRIFT_FROM_BATCH + 1)
        path = folder / f"batch_{number}.csv"
        batch.to_csv(path, index=False)
        batches.append((f"batch_{number}", path))
    return Scenario(
        name="diabetes",
        config=diabetes_config(),
        training_file=folder / "data_init.csv",
        test_file=folder / "data_test.csv",
        batches=tuple(batches),
    )
