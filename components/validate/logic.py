"""Validate stage: check a dataset against the scenario's schema before anything is stored."""

from __future__ import annotations

import numpy as np
import pandas as pd

from lifecycle.config import ColumnSpec, SchemaConfig
from lifecycle.errors import DataValidationError


def _delimiter_hint(frame: pd.DataFrame) -> str:
    if len(frame.columns) == 1:
        only = str(frame.columns[0])
        for delimiter in (";", "\t", "|"):
            if delimiter in only:
                return f"; the header is one column {only!r}: is the file comma-separated?"
    return ""


# Beyond this magnitude squared errors overflow float64 and RMSE becomes infinite.
MAX_MAGNITUDE = 1e150


def _numeric_column(values: pd.Series, spec: ColumnSpec, source: str) -> pd.Series:
    missing = values.isna()
    if missing.any():
        raise DataValidationError(source, spec.name, "missing values", int(missing.sum()))
    if pd.api.types.is_bool_dtype(values):
        raise DataValidationError(
            source, spec.name, "boolean values where numbers are expected", len(values)
        )
    numbers = pd.to_numeric(values, errors="coerce")
    not_numeric = numbers.isna()
    if not_numeric.any():
        examples = ", ".join(repr(v) for v in values[not_numeric].astype(str).unique()[:3])
        raise DataValidationError(
            source, spec.name, f"non-numeric values (e.g. {examples})", int(not_numeric.sum())
        )
    numbers = numbers.astype("float64")
    not_finite = ~np.isfinite(numbers.to_numpy())
    if not_finite.any():
        raise DataValidationError(source, spec.name, "infinite values", int(not_finite.sum()))
    too_large = int((numbers.abs() > MAX_MAGNITUDE).sum())
    if too_large:
        raise DataValidationError(
            source,
            spec.name,
            f"values beyond ±{MAX_MAGNITUDE:g} (their squares overflow)",
            too_large,
        )
    if spec.min is not None and (below := int((numbers < spec.min).sum())):
        raise DataValidationError(source, spec.name, f"values below the minimum {spec.min}", below)
    if spec.max is not None and (above := int((numbers > spec.max).sum())):
        raise DataValidationError(source, spec.name, f"values above the maximum {spec.max}", above)
    return numbers


def _categorical_column(values: pd.Series, spec: ColumnSpec, source: str) -> pd.Series:
    missing = values.isna()
    if missing.any():
        raise DataValidationError(source, spec.name, "missing values", int(missing.sum()))
    return values.astype(str)


def validate_frame(frame: pd.DataFrame, schema: SchemaConfig, source: str) -> pd.DataFrame:
    """Check ``frame`` against ``schema`` and return it typed, in schema column order.

    Checks column names (missing; unexpected ones rejected or dropped by config),
    types (numeric columns must parse as finite numbers), nulls, optional ranges
    and the minimum row count.

    Raises:
        DataValidationError: naming ``source``, the column and how many rows offend.
    """
    columns = [str(column) for column in frame.columns]
    missing = [spec.name for spec in schema.columns if spec.name not in columns]
    if missing:
        raise DataValidationError(
            source,
            missing[0],
            f"missing column (expected {', '.join(s.name for s in schema.columns)}; "
            f"found {', '.join(columns) or 'none'}){_delimiter_hint(frame)}",
        )
    unexpected = [name for name in columns if name not in {s.name for s in schema.columns}]
    if unexpected and schema.extra_columns == "reject":
        raise DataValidationError(
            source, unexpected[0], "unexpected column (set schema.extra_columns: ignore to drop it)"
        )
    if len(frame) < schema.min_rows:
        raise DataValidationError(
            source, None, f"has {len(frame)} rows, the schema needs at least {schema.min_rows}"
        )
    typed = {
        spec.name: (
            _numeric_column(frame[spec.name], spec, source)
            if spec.kind == "numeric"
            else _categorical_column(frame[spec.name], spec, source)
        )
        for spec in schema.columns
    }
    return pd.DataFrame(typed).reset_index(drop=True)
