"""The table `make run` ends with: one row per monitored batch, read back from the store."""

from __future__ import annotations

from dataclasses import dataclass

from lifecycle.history import DRIFT_COURSE_COLUMNS, decision_log, evaluation_log
from lifecycle.store import Store


@dataclass(frozen=True)
class BatchOutcome:
    """What one monitoring run did."""

    batch: str
    run_id: str
    model_version: str
    rmse: float
    r2: float
    flags: dict[str, bool]
    drift: bool
    new_version: str | None
    promoted: bool | None


def batch_outcomes(store: Store, model_name: str) -> list[BatchOutcome]:
    """Every committed monitoring run of ``model_name`` in the store, oldest first."""
    evaluations = [r for r in evaluation_log(store).records() if r["model_name"] == model_name]
    decisions = [r for r in decision_log(store).records() if r["model_name"] == model_name]
    outcomes = []
    for drift in (d for d in decisions if d["kind"] == "drift"):
        run_id = drift["run_id"]
        scores = {
            r["metric"]: r["score"]
            for r in evaluations
            if r["run_id"] == run_id and r["role"] == "monitor"
        }
        promotion = next(
            (d for d in decisions if d["kind"] == "promotion" and d["run_id"] == run_id), None
        )
        outcomes.append(
            BatchOutcome(
                batch=drift["batch"],
                run_id=run_id,
                model_version=drift["version"],
                rmse=scores.get("RMSE", float("nan")),
                r2=scores.get("r2", float("nan")),
                flags=drift["flags"],
                drift=drift["decision"] == "retrain",
                new_version=promotion["version"] if promotion else None,
                promoted=(promotion["decision"] == "promoted") if promotion else None,
            )
        )
    return outcomes


def _yes(value: bool | None) -> str:
    return "" if value is None else ("TRUE" if value else "FALSE")


def format_table(outcomes: list[BatchOutcome]) -> str:
    """A fixed-width text table, flags as TRUE/FALSE as in the course's drift log."""
    flag_names = [name for name in DRIFT_COURSE_COLUMNS if any(name in o.flags for o in outcomes)]
    for outcome in outcomes:
        flag_names += [name for name in outcome.flags if name not in flag_names]
    header = ["batch", "model", "RMSE", "R2", *flag_names, "drift", "new_version", "promoted"]
    rows = [
        [
            o.batch,
            o.model_version,
            f"{o.rmse:.6f}",
            f"{o.r2:.6f}",
            *[_yes(o.flags.get(name)) for name in flag_names],
            _yes(o.drift),
            o.new_version or "-",
            _yes(o.promoted) or "-",
        ]
        for o in outcomes
    ]
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *rows, strict=True)]
    lines = [
        "  ".join(str(cell).ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in [header, *rows]
    ]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)
