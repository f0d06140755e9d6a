"""The promote component's Markdown: who was compared on what, the scores and the decision.

The decision taken here is the challenger's claim; the commit (the finalize component) takes
the final one: ``production`` moves only if it still names the champion, and the run's summary
says what happened.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from components.markdown import literal, table


def _score(value: float | None) -> str:
    return "" if value is None else f"{value:.6g}"


def promotion_markdown(promotion: Mapping[str, Any], model_name: str) -> str:
    """The decision of :func:`components.promote.logic.promote` (as a dict) for the KFP UI.

    Args:
        promotion: the decision's fields (challenger, champion, wins, reason, metric, the two
            scores, batch).
        model_name: the model.
    """
    challenger, champion = promotion["challenger"], promotion["champion"]
    metric = promotion["metric"]
    rows = [("challenger", challenger, _score(promotion["challenger_score"]))]
    rows.insert(0, ("champion", champion or "none", _score(promotion["champion_score"])))
    if promotion["wins"]:
        outcome = (
            f"**The challenger wins.** Production moves to {literal(challenger)} when the run "
            "commits, if the champion "
            + (f"({literal(champion)}) is still production then" if champion else "is still none")
            + "; the run's summary (the finalize task) says what happened."
        )
    else:
        outcome = (
            f"**The challenger loses**: production stays "
            f"{literal(champion) if champion else 'unset'}."
        )
    return (
        "\n".join(
            [
                f"# Promotion of {literal(model_name)} {literal(challenger)}",
                "",
                table(["role", "version", f"{metric} on {promotion['batch']}"], rows),
                "",
                outcome,
                "",
                f"Why: {literal(promotion['reason'])}.",
            ]
        )
        + "\n"
    )
