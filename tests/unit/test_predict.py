"""Batch scoring (components/predict) and feedback (components/serve/feedback.py)."""

from __future__ import annotations

import io
import json

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from cli.main import main
from components.predict.logic import predict_file, predict_to_store
from components.serve.feedback import join_feedback, read_actuals
from components.serve.prediction_log import PredictionLog
from components.serve.settings import LogSettings
from lifecycle.config import LifecycleConfig
from lifecycle.errors import InvalidInputError
from lifecycle.registry import ModelRegistry
from lifecycle.store import LocalStore
from tests.helpers import course_model_in_production

CONFIG = LifecycleConfig()


@pytest.fixture
def store(tmp_path) -> LocalStore:
    store = LocalStore(tmp_path / "store")
    course_model_in_production(store)
    return store


def expected(store, x: np.ndarray) -> np.ndarray:
    estimator, _ = ModelRegistry(store, "course").load_artifact("1.0")
    return estimator.predict(pd.DataFrame({"x": x}))


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_a_file_is_scored_in_batches_keeping_every_column(store, tmp_path, suffix):
    x = np.linspace(0, 50, 1000)
    frame = pd.DataFrame({"id": [f"r{i}" for i in range(1000)], "x": x})
    source = tmp_path / f"in{suffix}"
    frame.to_csv(source, index=False) if suffix == ".csv" else frame.to_parquet(source)
    out = tmp_path / f"out{suffix}"
    scored = predict_file(store, CONFIG, source, out, batch_rows=64)
    assert (scored.rows, scored.version) == (1000, "1.0")
    result = pd.read_csv(out) if suffix == ".csv" else pd.read_parquet(out)
    assert list(result.columns) == ["id", "x", "prediction"]
    assert result["id"].tolist() == frame["id"].tolist()
    np.testing.assert_allclose(result["prediction"], expected(store, x), rtol=1e-12)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("z\n1\n", "missing column 'x'"),
        ("x\n1\n\n2\nabc\n", "column 'x'"),
        ("x\n1\n2\n\n", None),
        ("x,prediction\n1,2\n", "column 'prediction' would be overwritten"),
    ],
)
def test_bad_input_names_file_and_column(store, tmp_path, content, message):
    source = tmp_path / "in.csv"
    source.write_text(content)
    if message is None:  # blank lines are skipped, not errors
        assert predict_file(store, CONFIG, source, tmp_path / "o.csv").rows == 2
        return
    with pytest.raises(InvalidInputError, match=message) as caught:
        predict_file(store, CONFIG, source, tmp_path / "o.csv")
    assert str(source) in str(caught.value)


def test_a_missing_value_names_its_row(store, tmp_path):
    source = tmp_path / "in.parquet"
    pd.DataFrame({"x": [1.0, 2.0, None, 4.0]}).to_parquet(source)
    with pytest.raises(InvalidInputError, match=r"column 'x': missing value in row 3"):
        predict_file(store, CONFIG, source, tmp_path / "o.csv", batch_rows=2)


def test_the_cli_exits_2_on_bad_input(store, tmp_path, capsys):
    source = tmp_path / "in.csv"
    source.write_text("y\n1\n")
    code = main(
        ["predict", "--data", str(source), "--out", str(tmp_path / "o.csv"), "--store", store.uri]
    )
    assert code == 2 and "missing column 'x'" in capsys.readouterr().err


def test_scoring_into_the_store_writes_parts_then_the_manifest(store, tmp_path):
    source = tmp_path / "in.csv"
    pd.DataFrame({"x": np.arange(250.0)}).to_csv(source, index=False)
    scored = predict_to_store(store, CONFIG, source, "daily", batch_rows=40, part_rows=100)
    manifest = json.loads(store.get_bytes(scored.output))
    assert manifest["rows"] == 250 and manifest["version"] == "1.0"
    assert len(manifest["parts"]) == 3 and scored.output.endswith("/manifest.json")
    parts = [
        pq.read_table(io.BytesIO(store.get_bytes(key))).to_pandas() for key in manifest["parts"]
    ]
    together = pd.concat(parts, ignore_index=True)
    np.testing.assert_allclose(together["prediction"], expected(store, np.arange(250.0)))


# Feedback -------------------------------------------------------------------------------


def logged_store(store) -> LocalStore:
    log = PredictionLog(store, "course", ("x",), LogSettings())
    for request_id, values in (("a", [1.0]), ("b", [2.0, 3.0])):
        x = np.asarray(values)
        log.append("1.0", request_id, 1.0, {"x": x}, x * 2)
    log.flush()
    return store


def test_actuals_join_by_request_id_and_row(store, tmp_path):
    logged_store(store)
    actuals = tmp_path / "actuals.csv"
    actuals.write_text("request_id,row,y\na,0,10\nb,1,30\nzz,0,1\n")
    feedback = join_feedback(store, "course", CONFIG.schema, read_actuals(actuals, "y"))
    assert feedback.batch.to_dict("list") == {"x": [1.0, 3.0], "y": [10.0, 30.0]}
    assert feedback.matched == 2 and feedback.unmatched_ids == ["zz"]
    assert feedback.versions == ["1.0"]


def test_the_feedback_batch_is_a_batch_the_monitoring_pipeline_validates(store, tmp_path):
    from components.validate.logic import validate_frame

    logged_store(store)
    actuals = tmp_path / "actuals.csv"
    actuals.write_text("request_id,y\na,10\nb,20\n")
    out = tmp_path / "batch.csv"
    code = main(["feedback", "--actuals", str(actuals), "--out", str(out), "--store", store.uri])
    assert code == 0
    assert len(validate_frame(pd.read_csv(out), CONFIG.schema, str(out))) == 2


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("id,y\na,1\n", "missing column 'request_id'"),
        ("request_id\na\n", "missing column 'y'"),
        ("request_id,y\na,abc\n", "column 'y': 1 values are not finite numbers"),
        ("request_id,y,row\na,1,-1\n", "column 'row': must hold non-negative integers"),
        ("request_id,y\na,1\na,2\n", "request 'a' row 0 has two actuals"),
    ],
)
def test_bad_actuals_exit_2_naming_file_and_column(store, tmp_path, capsys, content, message):
    actuals = tmp_path / "actuals.csv"
    actuals.write_text(content)
    code = main(
        [
            "feedback",
            "--actuals",
            str(actuals),
            "--out",
            str(tmp_path / "o.csv"),
            "--store",
            store.uri,
        ]
    )
    error = capsys.readouterr().err
    assert code == 2 and message in error and str(actuals) in error


def test_actuals_matching_nothing_are_refused(store, tmp_path):
    logged_store(store)
    actuals = tmp_path / "actuals.csv"
    actuals.write_text("request_id,y\nnope,1\n")
    with pytest.raises(InvalidInputError, match="none of the 1 request ids"):
        join_feedback(store, "course", CONFIG.schema, read_actuals(actuals, "y"))
