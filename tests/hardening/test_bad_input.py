"""Bad input through the CLI: a clear error naming what is wrong, a non-zero exit, and every
store exactly as before (a listing with content hashes, compared before and after), on both
backends: a local folder and the real MinIO server."""

from __future__ import annotations

import hashlib
import json

import pytest
import skops.io

from cli.main import main
from lifecycle import keys
from lifecycle.config import LifecycleConfig
from lifecycle.datasets import read_dataset
from lifecycle.store import Store
from tests.helpers import COURSE, course_model_in_production, store_listing

CONFIG = LifecycleConfig()
GOOD = (COURSE / "batch_1.csv").read_bytes()


@pytest.fixture
def store(any_store: Store) -> Store:
    """A store of each backend with the course's model 1.0 in production and its test score."""
    course_model_in_production(any_store)
    return any_store


def dataset_key_of_name(store: Store, name: str) -> str:
    """The key of the one stored dataset called ``name``."""
    (key,) = [k for k in store.list_keys(f"datasets/{name}/") if k.endswith(keys.DATA_FILE)]
    return key


def refused(store: Store, capsys, argv: list[str], *expected: str, code: int = 2) -> str:
    """Run the CLI, expect a refusal naming ``expected``, and an unchanged store."""
    before = store_listing(store)
    assert main([*argv, "--store", store.uri]) == code
    error = capsys.readouterr().err
    assert error.startswith("error: ") and error.count("\n") == 1, error
    for text in expected:
        assert text in error, error
    assert store_listing(store) == before
    return error


BAD_FILES = {
    "missing_column.csv": (b"x\n1\n2\n", ["column 'y'", "missing column"]),
    "extra_column.csv": (b"x,y,z\n1,2,3\n2,3,4\n", ["column 'z'", "unexpected column"]),
    "wrong_dtype.csv": (b"x,y\n1,true\n2,false\n", ["column 'y'", "boolean values", "(2 rows)"]),
    "text_in_numeric.csv": (b"x,y\n1,2\nabc,3\n", ["column 'x'", "non-numeric", "(1 row)"]),
    "nan.csv": (b"x,y\n1,2\n2,NaN\n3,\n", ["column 'y'", "missing values", "(2 rows)"]),
    "inf.csv": (b"x,y\n1,inf\n2,-inf\n", ["column 'y'", "infinite values", "(2 rows)"]),
    "empty.csv": (b"", ["empty (0 bytes)"]),
    "header_only.csv": (b"x,y\n", ["has 0 rows"]),
    "duplicate_columns.csv": (b"x,y,x\n1,2,3\n", ["duplicate column name 'x'"]),
    "semicolons.csv": (b"x;y\n1;2\n3;4\n", ["comma-separated"]),
    "latin1.csv": ("x,y\n1,2\n2,\u00e9\n".encode("latin-1"), ["not UTF-8"]),
    "huge.csv": (b"x,y\n1,1e308\n2,3\n", ["column 'y'", "overflow", "(1 row)"]),
    "one_row.csv": (b"x,y\n1,2\n", ["at least 2"]),
}


@pytest.mark.parametrize("name", sorted(BAD_FILES))
def test_bad_batch_files_are_refused_by_validate_and_ingest(store, tmp_path, capsys, name):
    data, expected = BAD_FILES[name]
    path = tmp_path / name
    path.write_bytes(data)
    refused(store, capsys, ["validate", "--data", str(path)], str(path), *expected)
    refused(
        store, capsys, ["ingest", "--data", str(path), "--name", "batch_9"], str(path), *expected
    )


def test_a_bom_is_accepted(store, tmp_path):
    path = tmp_path / "bom.csv"
    path.write_bytes(b"\xef\xbb\xbf" + GOOD)
    assert main(["validate", "--data", str(path), "--store", store.uri]) == 0
    assert main(["ingest", "--data", str(path), "--name", "batch_1", "--store", store.uri]) == 0
    assert read_dataset(store, dataset_key_of_name(store, "batch_1")).columns.tolist() == ["x", "y"]


def test_extra_columns_are_dropped_when_the_config_says_ignore(store, tmp_path):
    path = tmp_path / "extra.csv"
    path.write_bytes(BAD_FILES["extra_column.csv"][0])
    config = tmp_path / "ignore.yaml"
    config.write_text("schema:\n  extra_columns: ignore\n")
    argv = ["ingest", "--data", str(path), "--name", "batch_9", "--config", str(config)]
    assert main([*argv, "--store", store.uri]) == 0
    stored = read_dataset(store, dataset_key_of_name(store, "batch_9"))
    assert stored.columns.tolist() == ["x", "y"] and len(stored) == 2


@pytest.mark.parametrize("name", ["../escape", "a/b", "with space", "ctrl\x07", "/abs", ".hidden"])
def test_unsafe_batch_ids_and_names_are_refused(store, tmp_path, capsys, name):
    path = tmp_path / "batch.csv"
    path.write_bytes(GOOD)
    refused(
        store, capsys, ["ingest", "--data", str(path), "--name", name], "dataset name", repr(name)
    )
    dataset = dataset_key_of_name(store, "data_test")
    refused(
        store, capsys, ["evaluate", "--dataset", dataset, "--batch", name], "batch id", repr(name)
    )


@pytest.mark.parametrize(
    ("damage", "expected"),
    [
        (lambda data: data[: len(data) // 2], "sha256"),
        (lambda data: b"", "sha256"),
        (lambda data: b"this is not a model file", "sha256"),
    ],
)
def test_damaged_model_artifacts_are_refused_before_loading(store, capsys, damage, expected):
    key = keys.model_version_prefix("course", "1.0") + keys.MODEL_FILE
    store.put_bytes(key, damage(store.get_bytes(key)))
    dataset = dataset_key_of_name(store, "data_test")
    refused(store, capsys, ["evaluate", "--dataset", dataset, "--batch", "b1"], expected, code=3)


def test_an_intact_artifact_that_is_not_a_model_is_refused(store, capsys):
    # The hash matches (its metadata was rewritten to fit) and a dict of strings holds only
    # trusted types, so only the check for predict() stands.
    prefix = keys.model_version_prefix("course", "1.0")
    artifact = skops.io.dumps({"not": "a model"})
    meta = json.loads(store.get_bytes(prefix + keys.META_FILE))
    meta["artifact_sha256"] = hashlib.sha256(artifact).hexdigest()
    store.put_bytes(prefix + keys.MODEL_FILE, artifact)
    store.put_bytes(prefix + keys.META_FILE, json.dumps(meta).encode())
    dataset = dataset_key_of_name(store, "data_test")
    refused(
        store,
        capsys,
        ["evaluate", "--dataset", dataset, "--batch", "b1"],
        "is not a model",
        "has no predict()",
        code=3,
    )


def test_a_corrupt_history_record_is_named(store, tmp_path, capsys):
    from tests.store.writers import committed_append, record

    committed_append(store, [record(0, 0)], "committed")
    (key,) = [k for k in store.list_keys(keys.EVALUATION_RECORDS) if "/committed/" in k]
    store.put_bytes(key, b'{"time_stamp": "2026-')  # a committed run's record, cut short
    refused(
        store, capsys, ["export-views", "--to", str(tmp_path)], repr(key), "is not JSON", code=3
    )


def test_unknown_store_key_as_source(store, capsys):
    refused(store, capsys, ["ingest", "--data", "incoming/none.csv", "--name", "b"], "no such file")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("drift:\n  no_such_test: true\n", "drift.no_such_test"),
        ("drift:\n  p_value: high\n", "drift.p_value"),
        ("schema:\n  min_rows: -1\n", "schema.min_rows"),
        ("model:\n  estimator: os.system\n", "model.estimator"),
        ("- a list\n", "mapping"),
        ("drift: [unclosed\n", "not valid YAML"),
    ],
)
def test_bad_config_files_are_refused_naming_file_and_key(store, tmp_path, capsys, text, expected):
    path = tmp_path / "config.yaml"
    path.write_text(text)
    refused(
        store,
        capsys,
        ["validate", "--data", str(COURSE / "batch_1.csv"), "--config", str(path)],
        str(path),
        expected,
    )


def test_unknown_cli_flags_exit_2(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["validate", "--data", "x.csv", "--no-such-flag"])
    assert exit_info.value.code == 2
    assert "unrecognized arguments: --no-such-flag" in capsys.readouterr().err
