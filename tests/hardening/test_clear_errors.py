"""One clear line, never a traceback: a read-only store, an endpoint that is not S3, a
``--dataset`` that is not a dataset, an output that cannot be written (checked before the
command starts), a config the estimator refuses, and read-only commands on a store that
does not exist (which they never create)."""

from __future__ import annotations

import http.server
import os
import shutil
import stat
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from cli.main import main
from lifecycle import keys
from lifecycle.errors import StoreError
from lifecycle.history import evaluation_log
from lifecycle.store import LocalStore, Store, open_store
from tests.conftest import skip_or_fail
from tests.helpers import COURSE, course_model_in_production, store_listing

BATCH = str(COURSE / "batch_1.csv")


def one_line(capsys, argv: list[str], *expected: str, code: int) -> str:
    assert main(argv) == code
    error = capsys.readouterr().err
    assert error.startswith("error: ") and error.count("\n") == 1, error
    for text in expected:
        assert text in error, error
    return error


@pytest.fixture
def store(any_store: Store) -> Store:
    course_model_in_production(any_store)
    return any_store


# A read-only store -----------------------------------------------------------------------


def _unprivileged(argv: list[str]) -> subprocess.CompletedProcess[str]:
    """Run the CLI as a process that file permissions bind: as root, without the
    capabilities that bypass them (setpriv, from util-linux)."""
    prefix: list[str] = []
    if os.geteuid() == 0:
        setpriv = shutil.which("setpriv")
        if setpriv is None:
            skip_or_fail("setpriv (util-linux) is missing: root cannot be denied a write")
        caps = "-dac_override,-dac_read_search,-fowner"
        prefix = [setpriv, f"--inh-caps={caps}", f"--bounding-set={caps}"]
    return subprocess.run(
        [*prefix, sys.executable, "-m", "cli", *argv],
        capture_output=True,
        text=True,
        check=False,
    )


def _read_only(root: Path) -> None:
    for path in [root, *root.rglob("*")]:
        mode = path.stat().st_mode
        path.chmod(mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))


@pytest.fixture
def read_only_store(tmp_path) -> Iterator[LocalStore]:
    store = LocalStore(tmp_path / "store")
    course_model_in_production(store)
    _read_only(store.root)
    yield store
    for path in [store.root, *store.root.rglob("*")]:
        path.chmod(path.stat().st_mode | stat.S_IWUSR)  # so that pytest can remove it


def test_a_read_only_store_ends_writing_commands_in_one_line(read_only_store, tmp_path):
    store = read_only_store
    before = store_listing(store)
    (dataset,) = [k for k in store.list_keys("datasets/data_test/") if k.endswith("parquet")]
    writers = {
        "ingest": (["ingest", "--data", BATCH, "--name", "batch_1"], "cannot "),
        "evaluate": (["evaluate", "--dataset", dataset, "--batch", "b1"], "cannot "),
        "train": (["train", "--data", BATCH], "is not writable"),
        "monitor": (["monitor", "--batch-file", BATCH, "--batch-id", "b1"], "is not writable"),
    }
    for argv, expected in writers.values():
        run = _unprivileged([*argv, "--store", store.uri])
        assert run.returncode == 3, run.stderr[-2000:]
        assert run.stderr.startswith("error: ") and run.stderr.count("\n") == 1, run.stderr
        assert expected in run.stderr and "Permission denied" in run.stderr, run.stderr
        assert store.uri in run.stderr
    assert store_listing(store) == before
    # Commands that only read still work on it.
    verify = _unprivileged(["verify", "--store", store.uri])
    assert verify.returncode == 0 and "consistent" in verify.stdout, verify.stderr
    exported = _unprivileged(["export-views", "--store", store.uri, "--to", str(tmp_path / "v")])
    assert exported.returncode == 0, exported.stderr
    assert (tmp_path / "v" / keys.EVALUATION_VIEW).read_text().count("\n") == 1 + 3
    assert store_listing(store) == before


# An endpoint that answers, but not as S3 -------------------------------------------------


class _WebPage(http.server.BaseHTTPRequestHandler):
    status = 200

    def _answer(self) -> None:
        body = b"<!doctype html>\n<html>\n<body>Kubeflow Pipelines</body>\n</html>\n"
        self.send_response(self.status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    do_GET = do_PUT = do_HEAD = do_POST = do_DELETE = _answer

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(params=[200, 404, 500])
def web_page(request, monkeypatch) -> Iterator[str]:
    handler = type("Handler", (_WebPage,), {"status": request.param})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv("MINIO_ACCESS_KEY", "someone")
    monkeypatch.setenv("MINIO_SECRET_KEY", "some-secret-key")
    monkeypatch.setenv("STORE_RETRY_BUDGET", "0.5")
    yield f"minio://127.0.0.1:{server.server_address[1]}/lifecycle"
    server.shutdown()
    server.server_close()


def test_an_endpoint_that_answers_with_a_web_page_is_named(web_page, capsys):
    commands = (
        ["models"],
        ["verify"],
        ["ingest", "--data", BATCH, "--name", "b"],
        ["train", "--data", BATCH],
    )
    for argv in commands:
        one_line(capsys, [*argv, "--store", web_page], "does not answer as S3", code=3)


# A --dataset that is not a dataset ---------------------------------------------------------


def test_a_dataset_argument_that_is_not_a_dataset_is_named(store, capsys):
    (dataset,) = [k for k in store.list_keys("datasets/data_test/") if k.endswith("parquet")]
    model_file = keys.model_version_prefix("course", "1.0") + keys.MODEL_FILE
    not_datasets = [
        "batch_1.csv",
        model_file,
        keys.EVALUATION_VIEW,
        dataset.replace(keys.DATA_FILE, keys.META_FILE),
        "datasets/data_test",
    ]
    stamp = evaluation_log(store).records()[-1]["time_stamp"]  # data_test's, as role test
    before = store_listing(store)
    for key in not_datasets:
        for argv in (
            ["evaluate", "--dataset", key, "--batch", "b1"],
            ["fit", "--dataset", key],
            ["promote", "--challenger", "1.0", "--dataset", key, "--batch", "b1"],
            ["detect-drift", "--model-version", "1.0", "--dataset", key, "--batch", "test",
             "--evaluation-time", stamp],
        ):  # fmt: skip
            one_line(capsys, [*argv, "--store", store.uri], repr(key), "not a dataset key", code=2)
    assert store_listing(store) == before


def test_a_dataset_with_damaged_metadata_or_data_is_named(store, capsys):
    (dataset,) = [k for k in store.list_keys("datasets/data_test/") if k.endswith("parquet")]
    meta = keys.dataset_meta_key(dataset)
    argv = ["evaluate", "--dataset", dataset, "--batch", "b1", "--store", store.uri]
    original = store.get_bytes(meta)
    store.put_bytes(meta, b'{"key": 1}')
    one_line(capsys, argv, repr(dataset), "does not parse", code=3)
    store.put_bytes(meta, original)
    store.put_bytes(dataset, b"PAR1 not really")
    one_line(capsys, argv, repr(dataset), "not a readable Parquet file", code=3)


def test_a_dataset_of_another_schema_is_named(store, tmp_path, capsys):
    path = tmp_path / "other.csv"
    path.write_text("a,b\n1,2\n3,4\n")
    config = tmp_path / "other.yaml"
    config.write_text("schema: {features: [{name: a}], target: {name: b}}\n")
    assert main(["ingest", "--data", str(path), "--name", "other", "--config", str(config),
                 "--store", store.uri]) == 0  # fmt: skip
    capsys.readouterr()
    (other,) = [k for k in store.list_keys("datasets/other/") if k.endswith("parquet")]
    argv = ["evaluate", "--dataset", other, "--batch", "b1", "--store", store.uri]
    one_line(capsys, argv, repr(other), "has no column 'x'", code=2)


# Outputs checked before the command starts -----------------------------------------------


def test_an_unwritable_report_ends_the_scenario_before_it_plays(tmp_path, capsys):
    store = tmp_path / "store"
    a_file = tmp_path / "a-file"
    a_file.write_text("")
    for report, expected in [
        (tmp_path / "missing" / "report.html", "does not exist"),
        (tmp_path, "is a folder"),
        (a_file / "report.html", "is not a folder"),
    ]:
        argv = ["scenario", "course", "--store", str(store), "--report", str(report)]
        one_line(capsys, argv, "--report", str(report), expected, code=2)
        assert not store.exists()  # not a single task ran


def test_unwritable_export_folders_and_files_are_named(store, tmp_path, capsys):
    a_file = tmp_path / "a-file"
    a_file.write_text("")
    before = store_listing(store)
    one_line(
        capsys, ["export-views", "--to", str(a_file), "--store", store.uri], "--to", "is a file",
        code=2,
    )  # fmt: skip
    one_line(
        capsys, ["export-views", "--to", str(a_file / "sub"), "--store", store.uri], "--to",
        code=2,
    )  # fmt: skip
    for target in (tmp_path / "missing" / "m.pkl", tmp_path):
        one_line(capsys, ["export-model", "--to", str(target), "--store", store.uri], "--to",
                 str(target), code=2)  # fmt: skip
    assert store_listing(store) == before


def test_export_model_writes_the_course_pickle_and_the_skops_file(store, tmp_path, capsys):
    import pickle

    import skops.io

    assert main(["export-model", "--version", "1.0", "--to", str(tmp_path / "model_1.0.pkl"),
                 "--store", store.uri]) == 0  # fmt: skip
    assert main(["export-model", "--to", str(tmp_path / "m.skops"), "--store", store.uri]) == 0
    assert "wrote" in capsys.readouterr().out
    model = pickle.loads((tmp_path / "model_1.0.pkl").read_bytes())  # noqa: S301 - ours
    assert model.coef_[0] == pytest.approx(1.8267272727, abs=1e-9)  # the course's a
    skops_file = (tmp_path / "m.skops").read_bytes()
    assert skops_file == store.get_bytes(keys.model_version_prefix("course", "1.0") + "model.skops")
    loaded = skops.io.loads(skops_file, trusted=["sklearn.linear_model._base.LinearRegression"])
    assert loaded.coef_[0] == model.coef_[0]


# Config refused at load, before any task ---------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("model: {estimator: sklearn.ensemble._forest.ForestRegressor}", "abstract class"),
        ("model: {estimator: sklearn.linear_model.Ridge, params: {alpha: -1}}", "'alpha'"),
        ("model: {params: {n_jobs: many}}", "'n_jobs'"),
        ("drift: {param_sigmas: .inf}", "drift.param_sigmas"),
        ("drift: {policy: subset}", "drift.subset"),
        ("schema: {min_rows: 1}", "schema.min_rows"),
    ],
)
def test_a_config_the_estimator_refuses_ends_train_before_any_task(
    tmp_path, capsys, text, expected
):
    config = tmp_path / "config.yaml"
    config.write_text(text + "\n")
    store = tmp_path / "store"
    argv = ["train", "--data", BATCH, "--config", str(config), "--store", str(store)]
    one_line(capsys, argv, str(config), expected, code=2)
    assert not store.exists()


# Read-only commands never create a store -------------------------------------------------


def test_read_only_commands_on_a_missing_folder_are_an_error(tmp_path, capsys):
    missing = tmp_path / "no-such-store"
    for argv in (
        ["verify"],
        ["models"],
        ["export-views", "--to", str(tmp_path / "views")],
        ["export-model", "--to", str(tmp_path / "m.pkl")],
        ["validate", "--data", "datasets/x/0123456789abcdef/data.parquet"],
    ):
        one_line(capsys, [*argv, "--store", str(missing)], "no store at", str(missing), code=3)
        assert not missing.exists()
    assert main(["validate", "--data", BATCH, "--store", str(missing)]) == 0  # a file: no store
    assert not missing.exists()


def test_read_only_commands_on_a_missing_bucket_are_an_error(minio_server, minio_env, capsys):
    uri = minio_server.bucket_uri("never-created")
    for argv in (["verify"], ["models"]):
        one_line(capsys, [*argv, "--store", uri], "no store at", "'never-created'", code=3)
    with pytest.raises(StoreError, match="does not exist"):
        open_store(uri, create=False)
