"""Promote stage: decide whether the challenger replaces the champion as ``production``.

The decision is taken here, on the newest labelled batch; the alias moves when the run commits
(:mod:`components.finalize.logic`), and only if ``production`` still names the champion the
challenger was compared with: two runs that retrained from the same champion cannot both
replace it.
"""

from __future__ import annotations

from collections.abc import Mapping
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


def _score(
    store: Store,
    config: LifecycleConfig,
    version: str,
    file: ParquetSource,
    batch: str,
    dataset_key: str,
    run: RunContext,
) -> float:
    """A version's promotion metric on the batch, read, predicted and scored chunk by chunk."""
    estimator = load_estimator(store, config, version, run.run_id)
    scored = f"batch {batch!r} (model {version})"
    source = f"dataset {dataset_key!r}"
    return score_parquet(estimator, config, file, scored, source=source)[config.promotion.metric]


def promote(
    store: Store,
    config: LifecycleConfig,
    challenger: str,
    champion: str,
    dataset_key: str,
    batch: str,
    run: RunContext,
    known_scores: Mapping[str, Mapping[str, float]] | None = None,
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
        known_scores: metrics already computed for some versions on this same dataset (the
            evaluations of this run, by version), taken instead of scoring the batch again.
    """
    registry = ModelRegistry(store, config.model.name, run.run_id)
    champion_version = (
        registry.alias() if champion in ("", PRODUCTION) else registry.resolve(champion)
    )
    metric = config.promotion.metric
    require_columns(store, dataset_key, config.schema.column_names)

    versions = [challenger, champion_version] if champion_version else [challenger]
    scores = {
        version: float(known_scores[version][metric])
        for version in versions
        if known_scores and metric in known_scores.get(version, {})
    }
    unscored = [version for version in versions if version not in scores]
    if unscored:
        with dataset_file(store, dataset_key) as file:
            for version in unscored:
                scores[version] = _score(store, config, version, file, batch, dataset_key, run)
    challenger_score = scores[challenger]
    champion_score = scores[champion_version] if champion_version else None
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
