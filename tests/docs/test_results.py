"""docs/results.py: the run's numbers, the text quoting them, the pictures drawn from them."""

from __future__ import annotations

from pathlib import Path

import pytest

from components.detect_drift.logic import history_bounds
from components.finalize.logic import Contributions, commit_run
from lifecycle.config import LifecycleConfig
from lifecycle.history import decision_log, evaluation_log
from lifecycle.runs import RunContext
from lifecycle.store import LocalStore
from tests.helpers import PNG_SIGNATURE, docs_results

DOCS = Path(__file__).resolve().parents[2] / "docs"


results = docs_results()


def _evaluation(stamp: str, version: str, batch: str, role: str, rmse: float, r2: float):
    return [
        {
            "time_stamp": stamp,
            "model_name": "course",
            "version": version,
            "batch": batch,
            "metric": metric,
            "score": score,
            "dataset_key": f"datasets/{batch}/x/data.parquet",
            "role": role,
        }
        for metric, score in (("RMSE", rmse), ("r2", r2), ("MAE", rmse / 2))
    ]


def _decision(stamp: str, kind: str, version: str, batch: str, decision: str, **extra):
    return {
        "time_stamp": stamp,
        "kind": kind,
        "model_name": "course",
        "version": version,
        "batch": batch,
        "decision": decision,
        "reason": "",
        **extra,
    }


def _monitored(
    store: LocalStore,
    second: int,
    batch: str,
    champion: tuple[str, float, float],
    challenger: tuple[str, float, float],
    flags: dict[str, bool],
    promoted: bool,
) -> None:
    """One monitoring run: the champion's scores, a drift decision to retrain, the challenger's
    scores and the promotion decision, one second apart from ``second`` on."""

    def stamp(offset: int) -> str:
        return f"2026-01-01T00:00:{second + offset:02d}"

    evaluations, decisions = evaluation_log(store), decision_log(store)
    run = f"run-{batch}"
    evaluations.append(
        _evaluation(stamp(0), champion[0], batch, "monitor", *champion[1:]),
        RunContext(run, "evaluate"),
    )
    decisions.append(
        [
            _decision(
                stamp(1),
                "drift",
                champion[0],
                batch,
                "retrain",
                flags=flags,
                evaluation_time=stamp(0),
            )
        ],
        RunContext(run, "detect-drift"),
    )
    evaluations.append(
        _evaluation(stamp(2), challenger[0], batch, "challenger", *challenger[1:]),
        RunContext(run, "evaluate-2"),
    )
    decision = "promoted" if promoted else "kept"
    decisions.append(
        [_decision(stamp(3), "promotion", challenger[0], batch, decision)],
        RunContext(run, "finalize"),
    )
    _commit(store, run)


def _commit(store: LocalStore, run_id: str) -> None:
    commit_run(store, LifecycleConfig(), RunContext(run_id, "finalize"), Contributions())


@pytest.fixture
def small_run(tmp_path: Path) -> LocalStore:
    """Two monitored batches: the first fires the history and KS tests, the second only KS."""
    store = LocalStore(tmp_path / "store")
    all_fired = {"hard_test_RMSE": True, "param_test_RMSE": True, "ks_test_x": True}
    only_ks = {"hard_test_RMSE": False, "param_test_RMSE": False, "ks_test_x": True}
    evaluation_log(store).append(
        _evaluation("2026-01-01T00:00:01", "1.0", "test", "test", 0.2, 0.99),
        RunContext("run-training", "evaluate"),
    )
    decision_log(store).append(
        [_decision("2026-01-01T00:00:02", "promotion", "1.0", "test", "promoted")],
        RunContext("run-training", "finalize"),
    )
    _commit(store, "run-training")
    _monitored(store, 3, "batch_1", ("1.0", 0.5, 0.9), ("1.1", 0.3, 0.97), all_fired, True)
    _monitored(store, 7, "batch_2", ("1.1", 0.25, 0.98), ("1.2", 0.2, 0.99), only_ks, False)
    return store


def test_the_facts_are_the_drift_components_bounds(small_run: LocalStore) -> None:
    config = LifecycleConfig()
    facts = results.run_facts(small_run, config)
    first, second = facts["batches"]
    assert (first["version"], second["version"]) == ("1.0", "1.1")
    assert first["previous"]["RMSE"] == [0.2]
    assert first["bounds"]["RMSE"] == pytest.approx(history_bounds([0.2], "RMSE", config.drift))
    # 1.1's history is its challenger score on batch_1.
    assert second["bounds"]["r2"] == pytest.approx(history_bounds([0.97], "r2", config.drift))
    assert first["fired"] == ["hard_test_RMSE", "ks_test_x", "param_test_RMSE"]
    assert second["fired"] == ["ks_test_x"]
    assert (first["new_version"], first["promoted"]) == ("1.1", True)
    assert (second["new_version"], second["promoted"]) == ("1.2", False)
    assert second["challenger_scores"] == {"RMSE": 0.2, "r2": 0.99}
    assert facts["test"]["scores"] == {"RMSE": 0.2, "r2": 0.99}


def test_the_text_says_what_fired_where(small_run: LocalStore) -> None:
    text = results.results_markdown(results.run_facts(small_run, LifecycleConfig()))
    assert "| batch_1 | 1.0 | 0.5000 | 0.9000 | hard, param on RMSE | ks on x | 1.1 |" in text
    assert "| batch_2 | 1.1 | 0.2500 | 0.9800 | — | ks on x | 1.2 | 0.2000 | no |" in text
    assert "The history tests fired on batch_1; on batch_2" in text
    assert "fired on 2 of 2 batches and 1 challengers were promoted" in text
    assert "worst batch is batch_1: RMSE 0.5000 for 1.0, 0.3000 for its successor 1.1" in text
    assert "RMSE 2) is configured but not an enabled test; that worst score is below it" in text


def test_the_monitoring_picture_is_drawn_from_the_facts(small_run, tmp_path: Path) -> None:
    facts = results.run_facts(small_run, LifecycleConfig())
    path = results.plot_monitoring(facts, tmp_path)
    assert path.read_bytes().startswith(PNG_SIGNATURE)


def test_the_readme_quotes_the_committed_run() -> None:
    text = (DOCS / "README.md").read_text(encoding="utf-8")
    start = text.index(results.RESULTS_BEGIN) + len(results.RESULTS_BEGIN)
    quoted = text[start : text.index(results.RESULTS_END)]
    assert quoted == "\n" + results.results_markdown(results.read_facts())
    for image in ("data_and_models.png", "monitoring.png", "report.png"):
        assert f"images/{image}" in quoted
        assert (DOCS / "images" / image).read_bytes().startswith(PNG_SIGNATURE)
