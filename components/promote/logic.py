"""Promote stage: move ``production`` to the challenger only when it is not worse."""

from __future__ import annotations

from dataclasses import dataclass

from components.evaluate.logic import compute_metrics, predict
from lifecycle.config import METRIC_HIGHER_IS_WORSE, LifecycleConfig, PromotionConfig
from lifecycle.datasets import read_dataset
from lifecycle.history import decision_log, now_stamp
from lifecycle.registry import ModelRegistry
from lifecycle.store import Store


def challenger_wins(challenger: float, champion: float, policy: PromotionConfig) -> bool:
    """Whether the challenger's score is not worse than the champion's, within the tolerance."""
    margin = abs(champion) * policy.tolerance
    if METRIC_HIGHER_IS_WORSE[policy.metric]:
        return challenger <= champion + margin
    return challenger >= champion - margin


@dataclass(frozen=True)
class Promotion:
    """The outcome of a promotion decision."""

    challenger: str
    champion: str | None
    promoted: bool
    production: str
    reason: str
    challenger_score: float
    champion_score: float | None


def promote(
    store: Store,
    config: LifecycleConfig,
    challenger: str,
    champion: str,
    dataset_key: str,
    batch: str,
) -> Promotion:
    """Score challenger and champion on the newest labelled batch and decide.

    Args:
        champion: the champion's version, or empty/``production`` for the current alias
            (no production model yet: the challenger is promoted).
    """
    registry = ModelRegistry(store, config.model.name, config.model)
    champion_version = (
        registry.alias() if champion in ("", "production") else registry.resolve(champion)
    )
    data = read_dataset(store, dataset_key, config.schema.column_names)
    actual = data[config.schema.target.name].to_numpy()
    metric = config.promotion.metric

    def score(version: str) -> float:
        scored = f"batch {batch!r} (model {version})"
        return compute_metrics(actual, predict(store, config, version, data), scored)[metric]

    challenger_score = score(challenger)
    champion_score = score(champion_version) if champion_version else None
    if champion_score is None:
        promoted, reason = True, "no production model yet"
    else:
        promoted = challenger_wins(challenger_score, champion_score, config.promotion)
        comparison = "not worse than" if promoted else "worse than"
        reason = (
            f"challenger {challenger} {metric}={challenger_score:.6g} is {comparison} "
            f"champion {champion_version} {metric}={champion_score:.6g} on {batch}"
        )
    if promoted:
        registry.set_alias(challenger)
    production = challenger if promoted else str(champion_version)
    decision_log(store).append(
        [
            {
                "time_stamp": now_stamp(),
                "kind": "promotion",
                "model_name": config.model.name,
                "version": challenger,
                "batch": batch,
                "decision": "promoted" if promoted else "kept champion",
                "reason": reason,
                "champion": champion_version,
                "challenger_score": challenger_score,
                "champion_score": champion_score,
            }
        ]
    )
    return Promotion(
        challenger, champion_version, promoted, production, reason, challenger_score, champion_score
    )
