"""The example of reuse (pipelines/examples/foreign_batch.py) on KFP's local runner: two of the
lifecycle's components (ingest, evaluate, inside finalize's transaction) between plain KFP
components that hand over and read ordinary Dataset artifacts."""

from __future__ import annotations

import pytest

from lifecycle.datasets import list_datasets, read_dataset
from lifecycle.history import evaluation_log
from lifecycle.store import LocalStore
from pipelines.examples.foreign_batch import foreign_batch_pipeline
from pipelines.local import PipelineFailedError, run_pipeline
from tests.helpers import COURSE, course_model_in_production, store_listing

pytestmark = pytest.mark.e2e


@pytest.fixture
def store(tmp_path) -> LocalStore:
    store = LocalStore(tmp_path / "store")
    course_model_in_production(store)
    return store


def test_a_foreign_batch_is_stored_scored_and_read_back_as_parquet(store, capfd):
    rows = (COURSE / "batch_1.csv").read_text()
    run = run_pipeline(
        foreign_batch_pipeline, {"rows_csv": rows, "batch_id": "foreign_1"}, store.uri
    )

    assert run.commit is not None and run.commit.run_id == run.run_id
    (stored,) = [ref for ref in list_datasets(store) if ref.name == "foreign_1"]
    assert stored.rows == 10 and read_dataset(store, stored.key)["x"].tolist() == list(
        range(11, 21)
    )
    scores = {
        r["metric"]: r["score"]
        for r in evaluation_log(store).records()
        if r["batch"] == "foreign_1" and r["run_id"] == run.run_id
    }
    # The course's numbers: model 1.0 on batch_1.
    assert scores["RMSE"] == pytest.approx(0.467999, abs=1e-6)
    assert scores["r2"] == pytest.approx(0.991870, abs=1e-6)
    # The plain component read the ingested Dataset's Parquet, knowing nothing of the store.
    assert "described 10 rows: x=15.5, y=29.869" in capfd.readouterr().out


def test_a_batch_that_breaks_the_schema_leaves_the_store_as_it_was(store):
    before = store_listing(store)
    with pytest.raises(PipelineFailedError, match="z"):
        run_pipeline(
            foreign_batch_pipeline, {"rows_csv": "x,z\n1,2\n3,4\n", "batch_id": "bad"}, store.uri
        )
    assert store_listing(store) == before
