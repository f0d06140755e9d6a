"""The whole loop with a real server process: serve → log → actuals → monitor → retrain →
promote → reload (pipelines/scenarios/serving.py, the segment `make run` plays too)."""

from __future__ import annotations

import pytest

from pipelines.scenarios import scenario
from pipelines.scenarios.serving import served_segment

pytestmark = pytest.mark.e2e


def test_the_served_model_is_retrained_on_its_feedback_and_reloaded(tmp_path):
    plan = scenario("course", tmp_path)
    said: list[str] = []
    result = served_segment(plan, plan.config, say=said.append)
    assert result.failed == 0
    assert result.matched == 10  # every row of batch_1, joined by the ids the server returned
    # Served, logged and joined back, batch_1 scores model 1.0 exactly as in the course.
    assert result.served_rmse == pytest.approx(0.46799902069353716, abs=1e-9)
    # x of batch_1 lies beyond the training range: drift, retrain 1.1, promote, and the running
    # server answers with 1.1 within its reload interval (1 s), without a restart.
    assert (result.version_before, result.version_after) == ("1.0", "1.1")
    assert result.reload_seconds < 10
    assert said[-1].startswith("== the server now answers with course 1.1 (was 1.0)")
