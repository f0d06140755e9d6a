"""Feedback: actual outcomes joined to the served predictions, as a labelled batch.

The actuals file (CSV or Parquet) has a ``request_id`` column, the target column of the schema
(e.g. ``y``) and optionally ``row``, the row's index within its request (default 0, for
one-row requests). Each actual is joined to the logged prediction with the same request id and
row; the result holds the features and the target in the schema's order, so the monitoring
pipeline takes it like any other batch (``lifecycle monitor --batch-file``). Actuals whose
request id is not in the log are reported, never guessed.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from components.serve.prediction_log import MODEL_VERSION, PREDICTION, REQUEST_ID, ROW, TIME
from lifecycle import keys
from lifecycle.config import SchemaConfig
from lifecycle.errors import InvalidInputError
from lifecycle.store import Store
from lifecycle.tables import is_parquet, read_table

# Objects read per round trip (MinIO reads them in parallel).
_READ_CHUNK = 64


@dataclass(frozen=True)
class Feedback:
    """A labelled batch made from actuals and the prediction log."""

    batch: pd.DataFrame
    matched: int
    unmatched_ids: list[str]
    versions: list[str]
    duplicate_predictions: int


def read_actuals(path: str | Path, target: str) -> pd.DataFrame:
    """The actuals file as ``request_id`` (text), ``row`` (int) and ``target`` (float).

    Raises:
        InvalidInputError: unreadable file, a missing column, or a bad value, naming the file
            and the column.
    """
    frame = read_table(path, text_columns=(REQUEST_ID,))
    source = str(path)
    for column in (REQUEST_ID, target):
        if column not in frame.columns:
            raise InvalidInputError(
                f"{source}: missing column {column!r} (expected {REQUEST_ID}, {target}, "
                f"optionally {ROW}; found {', '.join(map(str, frame.columns)) or 'none'})"
            )
    if frame[REQUEST_ID].isna().any():
        raise InvalidInputError(f"{source}: column {REQUEST_ID!r}: missing values")
    ids = frame[REQUEST_ID].astype(str).str.strip()
    if (ids == "").any():
        raise InvalidInputError(f"{source}: column {REQUEST_ID!r}: empty values")
    actual = pd.to_numeric(frame[target], errors="coerce")
    bad = actual.isna() | ~np.isfinite(actual.fillna(0).to_numpy(dtype=float))
    if bad.any():
        example = frame[target][bad].astype(str).iloc[0]
        raise InvalidInputError(
            f"{source}: column {target!r}: {int(bad.sum())} values are not finite numbers "
            f"(e.g. {example!r})"
        )
    rows = pd.Series(0, index=frame.index)
    if ROW in frame.columns:
        rows = pd.to_numeric(frame[ROW], errors="coerce")
        if rows.isna().any() or (rows < 0).any() or (rows % 1 != 0).any():
            raise InvalidInputError(f"{source}: column {ROW!r}: must hold non-negative integers")
    result = pd.DataFrame(
        {REQUEST_ID: ids, ROW: rows.astype("int64"), target: actual.astype("float64")}
    )
    if result.duplicated([REQUEST_ID, ROW]).any():
        first = result[result.duplicated([REQUEST_ID, ROW])].iloc[0]
        raise InvalidInputError(
            f"{source}: column {REQUEST_ID!r}: request {first[REQUEST_ID]!r} row {first[ROW]} "
            "has two actuals"
        )
    return result


def _logged(store: Store, model_name: str, ids: pa.Array, columns: list[str]) -> Iterator[pa.Table]:
    """The logged rows of the requests ``ids``, object by object."""
    listed = [
        key
        for key in store.list_keys(keys.prediction_log_prefix(model_name))
        if key.endswith(".parquet")
    ]
    for start in range(0, len(listed), _READ_CHUNK):
        for data in store.get_many(listed[start : start + _READ_CHUNK]):
            table = pq.read_table(pa.BufferReader(data), columns=columns)
            yield table.filter(pc.is_in(table[REQUEST_ID], value_set=ids))


def join_feedback(
    store: Store, model_name: str, schema: SchemaConfig, actuals: pd.DataFrame
) -> Feedback:
    """Join ``actuals`` (see :func:`read_actuals`) to the prediction log of ``model_name``.

    A request id logged twice (a client reusing ids) keeps its latest prediction, counted in
    ``duplicate_predictions``.

    Raises:
        InvalidInputError: no actual matches a logged prediction.
    """
    target = schema.target.name
    features = schema.feature_names
    ids = pa.array(actuals[REQUEST_ID].unique(), type=pa.string())
    columns = [REQUEST_ID, ROW, TIME, MODEL_VERSION, *features, PREDICTION]
    parts = [table for table in _logged(store, model_name, ids, columns) if table.num_rows]
    if not parts:
        raise InvalidInputError(
            f"none of the {len(ids)} request ids of the actuals is in the prediction log of "
            f"model {model_name!r} in store {store.uri}"
        )
    logged = pa.concat_tables(parts).to_pandas()
    logged[ROW] = logged[ROW].astype("int64")
    logged = logged.sort_values(TIME, kind="stable")
    duplicates = int(logged.duplicated([REQUEST_ID, ROW]).sum())
    logged = logged.drop_duplicates([REQUEST_ID, ROW], keep="last")
    joined = actuals.merge(logged, on=[REQUEST_ID, ROW], how="left", indicator=True)
    matched = joined[joined["_merge"] == "both"]
    unmatched = joined.loc[joined["_merge"] == "left_only", REQUEST_ID].drop_duplicates()
    if matched.empty:
        raise InvalidInputError(
            f"none of the {len(actuals)} actuals matches a logged row (request id and row) of "
            f"model {model_name!r}"
        )
    batch = matched[[*features, target]].reset_index(drop=True)
    return Feedback(
        batch=batch,
        matched=len(matched),
        unmatched_ids=unmatched.tolist(),
        versions=sorted(matched[MODEL_VERSION].unique().tolist()),
        duplicate_predictions=duplicates,
    )


def write_batch(batch: pd.DataFrame, out: str | Path) -> Path:
    """Write the labelled batch as CSV, or Parquet when ``out`` ends in ``.parquet``.

    Raises:
        InvalidInputError: the file cannot be written.
    """
    path = Path(out)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        if is_parquet(path.name):
            batch.to_parquet(path, index=False)
        else:
            batch.to_csv(path, index=False)
    except OSError as exc:
        raise InvalidInputError(f"{path}: cannot write: {exc.strerror}") from None
    return path
