"""A store writer replaces model 1.0's file and rewrites its metadata to match (sha256 and
all): no command may run a line of the planted code.

Each payload creates a marker file when its code runs: a pickle (the course's format), a
skops file whose tree calls ``builtins.exec``, and a skops file naming a class whose module
runs code on import. Every command that touches the model ends with one clear error and a
non-zero exit, the marker never appears, and the store is as before; then the same file,
loaded the careless way, does create the marker, which proves the payload live.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from cli.main import main
from lifecycle import keys
from lifecycle.history import evaluation_log
from lifecycle.store import LocalStore, Store
from tests.helpers import COURSE, course_model_in_production, store_listing
from tests.payloads import (
    exec_node,
    import_node,
    pickle_payload,
    plant,
    with_node,
    write_import_payload_module,
)

PAYLOADS = ["pickle", "exec", "import"]


class Planted:
    """A store whose production model 1.0 was replaced by a payload."""

    def __init__(self, store: Store, kind: str, folder: Path):
        self.store = store
        self.kind = kind
        self.marker = folder / f"ran-{kind}"
        self.modules = folder / "modules"
        self.modules.mkdir()
        _, _, self.test_set = course_model_in_production(store)
        genuine = store.get_bytes(keys.model_version_prefix("course", "1.0") + keys.MODEL_FILE)
        module = f"lifecycle_payload_{uuid.uuid4().hex[:8]}"
        if kind == "pickle":
            self.artifact, self.named = pickle_payload(self.marker), "pickle"
        elif kind == "exec":
            self.artifact = with_node(genuine, exec_node(self.marker))
            self.named = "builtins.exec"
        else:
            write_import_payload_module(self.modules, module, self.marker)
            self.artifact = with_node(genuine, import_node(module))
            self.named = f"{module}.Payload"
        plant(store, "course", "1.0", self.artifact)
        self.evaluation_time = evaluation_log(store).records()[-1]["time_stamp"]

    def prove_live(self) -> None:
        """The careless load of the same file runs its code (in a fresh interpreter)."""
        assert not self.marker.exists()
        script = (
            "import sys; from pathlib import Path; from tests.payloads import run_unsafely\n"
            "run_unsafely(Path(sys.argv[1]).read_bytes())\n"
        )
        path = self.marker.parent / f"{self.kind}.bin"
        path.write_bytes(self.artifact)
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(self.modules), os.getcwd()])}
        subprocess.run([sys.executable, "-c", script, str(path)], env=env, check=False)
        assert self.marker.exists(), f"the {self.kind} payload did not run even when trusted"


@pytest.fixture(params=PAYLOADS)
def planted(request, any_store, tmp_path, monkeypatch) -> Planted:
    planted = Planted(any_store, request.param, tmp_path)
    monkeypatch.syspath_prepend(str(planted.modules))  # the import payload's module is found
    return planted


def refused_without_running(planted: Planted, capsys, argv: list[str], code: int = 3) -> str:
    before = store_listing(planted.store)
    assert main([*argv, "--store", planted.store.uri]) == code
    captured = capsys.readouterr()
    assert not planted.marker.exists(), f"{argv[0]} ran the planted code"
    assert store_listing(planted.store) == before
    return captured.err if code != 1 else captured.out


def assert_one_clear_line(error: str, planted: Planted) -> None:
    assert error.startswith("error: ") and error.count("\n") == 1, error
    assert "'course' 1.0" in error and planted.named in error, error
    assert "refusing to load it" in error, error


def test_no_stage_command_runs_a_planted_model(planted, capsys, tmp_path):
    dataset = planted.test_set.key
    commands = {
        "evaluate": ["evaluate", "--dataset", dataset, "--batch", "b1"],
        "detect-drift": [
            "detect-drift",
            "--model-version",
            "1.0",
            "--dataset",
            dataset,
            "--batch",
            "test",
            "--evaluation-time",
            planted.evaluation_time,
        ],
        "promote": ["promote", "--challenger", "1.0", "--dataset", dataset, "--batch", "b1"],
        "models": ["models"],
        "export-model pickle": ["export-model", "--to", str(tmp_path / "model_1.0.pkl")],
        "export-model skops": ["export-model", "--to", str(tmp_path / "model_1.0.skops")],
    }
    for argv in commands.values():
        error = refused_without_running(planted, capsys, argv)
        assert_one_clear_line(error, planted)
    assert not (tmp_path / "model_1.0.pkl").exists()
    assert not (tmp_path / "model_1.0.skops").exists()
    report = refused_without_running(planted, capsys, ["verify"], code=1)
    assert any(planted.named in line and "1.0" in line for line in report.splitlines()), report
    planted.prove_live()


def test_a_registry_without_a_config_refuses_it_too(planted):
    from lifecycle.errors import IntegrityError
    from lifecycle.registry import ModelRegistry

    registry = ModelRegistry(planted.store, "course")  # trusts what the metadata names
    with pytest.raises(IntegrityError, match=planted.named.replace(".", r"\.")):
        registry.load_artifact("1.0")
    with pytest.raises(IntegrityError):
        registry.artifact("1.0")
    plant(planted.store, "course", "1.0", planted.artifact, estimator="builtins.exec")
    with pytest.raises(IntegrityError, match="not a scikit-learn regressor"):
        registry.load_artifact("1.0")
    assert not planted.marker.exists()
    planted.prove_live()


@pytest.mark.e2e
@pytest.mark.parametrize("kind", PAYLOADS)
def test_a_monitoring_run_does_not_run_a_planted_model(kind, tmp_path):
    store = LocalStore(tmp_path / "store")
    planted = Planted(store, kind, tmp_path)
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(planted.modules), os.environ.get("PYTHONPATH", "")]),
    }
    argv = ["monitor", "--batch-file", str(COURSE / "batch_1.csv"), "--batch-id", "batch_1"]
    result = subprocess.run(
        [sys.executable, "-m", "cli", *argv, "--store", store.uri],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0, result.stdout[-2000:]
    assert not planted.marker.exists()
    assert planted.named in result.stdout + result.stderr
    planted.prove_live()
