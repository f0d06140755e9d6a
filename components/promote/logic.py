"""Promote stage: decide whether the challenger replaces the champion as ``production``.

The decision is taken here, on the newest labelled batch; the alias moves when the run commits
(:mod:`components.finalize.logic`), and only if ``production`` still names the champion the
challenger was compared with: two runs that retrained from the same champion cannot both
replace it.
"""

from __future__ import annotations

from dataclasses import dataclass

from components.evaluate.logic import load_estimator, score_parquet
from lifecycle.config import METRIC_HIGHER_IS_WORSE, LifecycleConfig, PromotionConfig
from lifecycle.datasets import ParquetSource, dataset_file, require_columns
from lifecycle.registry import ModelRegistry
from lifecycle.runs import RunContext
from lifecycle.store import Store

PRODUCTION = "production"


def challenger_wins(challenger: float, champion: float, policy: PromotionConfig) -> bool:
    """Whether the challenger's score is not worse than the champion's, within the tolerance."""
    margin = abs(champion) * policy.tolerance
    if METRIC_HIGHER_IS_WORSE[policy.metric]:
        return challenger <= champion + margin
    return challenger >= champion - margin


@dataclass(frozen=True)
class Promotion:
    """A promotion decision, applied when its run commits."""

    challenger: str
    champion: str | None
    wins: bool
    reason: str
    metric: str
    challenger_score: float
    champion_score: float | None
    batch: str


def promote(
    store: Store,
    config: LifecycleConfig,
    challenger: str,
    champion: str,
    dataset_key: str,
    batch: str,
    run: RunContext,
) -> Promotion:
    """Score challenger and champion on the newest labelled batch and decide.

    Args:
        store: the artefact store.
        config: the model name, the schema and the promotion policy.
        challenger: the version trained by this run.
        champion: the version it is compared with, or empty/``production`` for the current
            alias (no production model yet: the challenger wins).
        dataset_key: the batch to score both on.
        batch: its batch id, for the record.
        run: the run deciding.
    """
    registry = ModelRegistry(store, config.model.name, run.run_id)
    champion_version = (
        registry.alias() if champion in ("", PRODUCTION) else registry.resolve(champion)
    )
    metric = config.promotion.metric
    require_columns(store, dataset_key, config.schema.column_names)

    def score(version: str, file: ParquetSource) -> float:
        # The batch read, predicted and scored chunk by chunk, once per version.
        estimator = load_estimator(store, config, version, run.run_id)
        scored = f"batch {batch!r} (model {version})"
        return score_parquet(estimator, config, file, scored, source=f"dataset {dataset_key!r}")[
            metric
        ]

    with dataset_file(store, dataset_key) as file:
        challenger_score = score(challenger, file)
        champion_score = score(champion_version, file) if champion_version else None
    if champion_score is None:
        wins, reason = True, "no production model yet"
    else:
        wins = challenger_wins(challenger_score, champion_score, config.promotion)
        comparison = "not worse than" if wins else "worse than"
        reason = (
            f"challenger {challenger} {metric}={challenger_score:.6g} is {comparison} "
            f"champion {champion_version} {metric}={champion_score:.6g} on {batch}"
        )
    return Promotion(
        challenger,
        champion_version,
        wins,
        reason,
        metric,
        challenger_score,
        champion_score,
        batch,
    )
