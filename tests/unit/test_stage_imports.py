"""Each stage runs without the heavy packages its image leaves out (no Docker needed): in a
subprocess where importing them fails, its component's imports, its CLI's help and (for the
stages run here) the stage itself succeed. ``tests/docker/test_stage_images.py`` checks the same
inside the images, and that the packages really are absent there."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from lifecycle.images import STAGES
from lifecycle.store import LocalStore
from tests.docker.test_stage_images import SUBCOMMANDS
from tests.helpers import COURSE, course_model_in_production
from tests.stage_imports import absent_modules, blocker, entry_imports, extra_modules

ROOT = Path(__file__).resolve().parents[2]


def run_blocked(modules: list[str], source: str, env: dict[str, str] | None = None) -> str:
    """Run ``source`` in a fresh interpreter in which ``modules`` cannot be imported."""
    result = subprocess.run(
        [sys.executable, "-c", blocker(modules) + "\n" + source],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def test_the_blocker_blocks():
    result = subprocess.run(
        [sys.executable, "-c", blocker(["sklearn"]) + "\nimport sklearn.linear_model"],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 1 and "sklearn is not in this image" in result.stderr


def test_the_light_stages_leave_out_every_heavy_package():
    heavy = sorted(m for names in extra_modules().values() for m in names)
    for stage in ("ingest", "validate", "select_data"):
        assert absent_modules(stage) == heavy, stage
    assert "sklearn" in absent_modules("ingest") and "matplotlib" in absent_modules("train")


@pytest.mark.parametrize("stage", STAGES)
def test_the_entry_point_imports_without_what_the_image_leaves_out(stage: str):
    run_blocked(absent_modules(stage), "\n".join(entry_imports(stage)))


@pytest.mark.parametrize("stage", STAGES)
def test_the_cli_of_the_stage_answers_without_what_the_image_leaves_out(stage: str):
    printed = run_blocked(
        absent_modules(stage),
        f"from cli.main import main\nraise SystemExit(main([{SUBCOMMANDS[stage]!r}, '--help']))",
    )
    assert printed.startswith(f"usage: lifecycle {SUBCOMMANDS[stage]}")


# The stages run for real, each group with what its images leave out blocked.
_SETUP = """
import json, os
from pathlib import Path
from kfp.dsl import Dataset, HTML, Markdown, Metrics, Model
RUN = os.environ["RUN"]
CONFIG = ""
folder = Path(os.environ["ARTIFACTS"])
count = 0
def new(kind):
    global count
    count += 1
    return kind(uri=str(folder / f"artifact-{count}"), metadata={})
batch = new(Dataset)
"""
_LIGHT = """
from components.validate.component import validate
from components.ingest.component import ingest
from components.select_data.component import select_data
assert validate.python_func(source=os.environ["BATCH"], report=new(Metrics), summary=new(Markdown))
ingest.python_func(source=os.environ["BATCH"], name="batch_1", dataset=batch, run_id=RUN,
                   task_name="ingest")
select_data.python_func(model_version="1.0", dataset=new(Dataset), run_id=RUN,
                        task_name="select-data")
print(json.dumps(batch.metadata))
"""
_MODEL = """
from components.ingest.component import ingest
from components.evaluate.component import evaluate
from components.train.component import train
from components.promote.component import promote
ingest.python_func(source=os.environ["BATCH"], name="batch_1", dataset=batch, run_id=RUN,
                   task_name="ingest")
scored = evaluate.python_func(data=batch, batch_id="batch_1", metrics=new(Metrics), run_id=RUN,
                              task_name="evaluate")
version = train.python_func(training_data=batch, test_data=batch, model=new(Model),
                            parent_version="1.0", run_id=RUN, task_name="train")
promote.python_func(challenger_version=version, data=batch, batch_id="batch_1",
                    summary=new(Markdown), scores=new(Metrics), run_id=RUN, task_name="promote")
print(json.dumps({"version": version, "scored": scored.version}))
"""


@pytest.mark.parametrize(
    ("stage", "script"), [("select_data", _LIGHT), ("train", _MODEL)], ids=["light", "model"]
)
def test_the_stages_run_without_what_their_images_leave_out(stage, script, tmp_path):
    store = LocalStore(tmp_path / "store")
    course_model_in_production(store)
    printed = run_blocked(
        absent_modules(stage),
        _SETUP + script,
        {
            "STORE": store.uri,
            "RUN": "11111111-2222-3333-4444-555555555555",
            "ARTIFACTS": str(tmp_path / "kfp"),
            "BATCH": str(COURSE / "batch_1.csv"),
        },
    )
    result = json.loads(printed.strip().splitlines()[-1])
    if stage == "train":
        assert result == {"version": "1.1", "scored": "1.0"}
    else:
        assert result["rows"] == 10 and result["store_key"].startswith("datasets/batch_1/")
