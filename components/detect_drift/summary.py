"""The drift component's Markdown summary: the decision, each test's flag and statistics."""

from __future__ import annotations

from components.detect_drift.logic import DriftDecision
from components.markdown import literal, table
from lifecycle.config import DriftConfig


def _number(value: float) -> str:
    return f"{value:.4g}"


def decision_markdown(decision: DriftDecision, model_name: str, drift: DriftConfig) -> str:
    """What the KFP UI shows beside the HTML report: the retraining signal and why.

    Args:
        decision: the drift check's outcome.
        model_name: the model checked.
        drift: the drift settings the check used (its policy).
    """
    fired = [name for name, flag in decision.flags.items() if flag]
    verdict = "**Retrain**" if decision.drift else "**Keep the model**"
    policy = {
        "any": "any test fires",
        "subset": f"any of {', '.join(drift.subset)} fires",
        "at_least": f"at least {drift.at_least} tests fire",
    }[drift.policy]
    why = (
        f"{len(fired)} of {len(decision.flags)} tests fired: {', '.join(fired)}"
        if fired
        else f"none of {len(decision.flags)} tests fired"
    )
    lines = [
        f"# Drift check: {literal(model_name)} {literal(decision.model_version)} "
        f"on {literal(decision.batch)}",
        "",
        f"{verdict}: {literal(why)}. The signal fires when {literal(policy)}; history tests "
        f"compared the evaluation at {literal(decision.evaluation_time)} with "
        f"{decision.previous_runs} previous run(s).",
        "",
        table(
            ["test", "fired"],
            [(name, "TRUE" if flag else "FALSE") for name, flag in decision.flags.items()],
        ),
    ]
    if decision.statistics:
        rows = [
            (
                name,
                _number(values.get("statistic", values.get("share", float("nan")))),
                _number(values["p_value"]) if "p_value" in values else "",
                _number(values["threshold"]) if "threshold" in values else "",
            )
            for name, values in decision.statistics.items()
        ]
        lines += [
            "",
            "Data tests (the drift suite):",
            "",
            table(["test", "statistic", "p-value", "threshold"], rows),
        ]
    return "\n".join(lines) + "\n"
