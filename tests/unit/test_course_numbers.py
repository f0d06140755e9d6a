"""The course's exact numbers: model 1.0's scores and the drift flags of its history."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from cli.main import main
from components.detect_drift.logic import flags_from_history_table
from components.evaluate.logic import compute_metrics
from components.train.logic import describe, fit
from lifecycle.config import LifecycleConfig
from tests.helpers import COURSE, course_frame

CONFIG = LifecycleConfig()
COURSE_EVAL = pd.read_csv(COURSE / "course_model_eval.csv")
COURSE_DRIFT = pd.read_csv(COURSE / "course_model_drift.csv")


@pytest.fixture(scope="module")
def model_1_0():
    return fit(course_frame("data_init"), CONFIG)


def test_model_1_0_parameters_as_the_course_prints_them(model_1_0):
    lines = describe(model_1_0, CONFIG.schema).splitlines()
    assert lines[0] == "y = a*x + b"
    assert float(lines[1].removeprefix("a = ")) == pytest.approx(1.8267272727, abs=1e-9)
    assert float(lines[2].removeprefix("b = ")) == pytest.approx(1.154, abs=1e-9)


@pytest.mark.parametrize("batch", [1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
def test_model_1_0_scores_equal_the_course_history(model_1_0, batch):
    frame = course_frame(f"batch_{int(batch)}")
    metrics = compute_metrics(frame["y"].to_numpy(), model_1_0.predict(frame[["x"]]))
    expected = COURSE_EVAL[COURSE_EVAL["batch"] == batch].groupby("metric")["score"].first()
    assert metrics["RMSE"] == pytest.approx(expected["RMSE"], abs=1e-9)
    assert metrics["r2"] == pytest.approx(expected["r2"], abs=1e-9)


def test_model_1_0_on_data_test(model_1_0):
    frame = course_frame("data_test")
    metrics = compute_metrics(frame["y"].to_numpy(), model_1_0.predict(frame[["x"]]))
    assert metrics["RMSE"] == pytest.approx(0.14980651432944148, abs=1e-9)
    assert metrics["r2"] == pytest.approx(0.9967312410079909, abs=1e-9)


def _course_flags(row: pd.Series) -> dict[str, bool]:
    return {name: bool(row[name]) for name in COURSE_DRIFT.columns[2:]}


def test_flags_of_the_course_history_equal_its_drift_log():
    flags = flags_from_history_table(COURSE_EVAL, CONFIG.drift, "course_model_eval.csv")
    for _, row in COURSE_DRIFT.iterrows():
        assert {k: v for k, v in flags.items() if k != "drift"} == _course_flags(row)
    assert flags["drift"] is True


def test_last_run_is_the_latest_time_stamp_wherever_it_stands():
    shuffled = COURSE_EVAL.sample(frac=1.0, random_state=7)
    assert flags_from_history_table(shuffled, CONFIG.drift, "x") == flags_from_history_table(
        COURSE_EVAL, CONFIG.drift, "x"
    )


def test_drift_cli_prints_the_course_flags_as_json(capsys):
    assert main(["drift", "--eval-history", str(COURSE / "course_model_eval.csv")]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed == {**_course_flags(COURSE_DRIFT.iloc[0]), "drift": True}


def test_drift_cli_accepts_iso_time_stamps(tmp_path, capsys):
    iso = COURSE_EVAL.assign(
        time_stamp=pd.to_datetime(
            COURSE_EVAL["time_stamp"], format="%d-%m-%Y %H:%M:%S"
        ).dt.strftime("%Y-%m-%dT%H:%M:%S")
    )
    path = tmp_path / "history.csv"
    iso.to_csv(path, index=False)
    assert main(["drift", "--eval-history", str(path)]) == 0
    assert json.loads(capsys.readouterr().out)["hard_test_RMSE"] is True


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda f: f.assign(time_stamp="yesterday"), "time_stamp"),
        (lambda f: f.assign(metric="accuracy"), "unknown metric"),
        (lambda f: f.drop(columns=["score"]), "missing column 'score'"),
        (lambda f: f.assign(score="high"), "column 'score'"),
    ],
)
def test_drift_cli_rejects_a_malformed_history(tmp_path, capsys, mutate, message):
    path = tmp_path / "bad.csv"
    mutate(COURSE_EVAL.copy()).to_csv(path, index=False)
    assert main(["drift", "--eval-history", str(path)]) == 2
    error = capsys.readouterr().err
    assert str(path) in error and message in error


def test_drift_cli_keeps_version_1_10_apart_from_1_1(tmp_path, capsys):
    # Read as numbers, "1.10" would be 1.1 and inherit 1.1's (much better) scores.
    rows = [
        ("01-01-2026 10:00:00", "1.1", 1, "RMSE", 0.1),
        ("02-01-2026 10:00:00", "1.1", 2, "RMSE", 0.1),
        ("03-01-2026 10:00:00", "1.10", 3, "RMSE", 0.5),
        ("04-01-2026 10:00:00", "1.10", 4, "RMSE", 0.45),
    ]
    path = tmp_path / "history.csv"
    path.write_text(
        "time_stamp,version,batch,metric,score\n"
        + "".join(",".join(str(value) for value in row) + "\n" for row in rows)
    )
    assert main(["drift", "--eval-history", str(path)]) == 0
    assert json.loads(capsys.readouterr().out)["hard_test_RMSE"] is False
