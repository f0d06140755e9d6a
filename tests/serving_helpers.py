"""Model versions and promotions for the serving tests and the serving benchmark, through the
stages and a committed run, as a pipeline makes them."""

from __future__ import annotations

from lifecycle.config import LifecycleConfig
from lifecycle.registry import ModelRegistry
from lifecycle.store import Store
from tests.helpers import COURSE


def second_version(store: Store, config: LifecycleConfig | None = None) -> str:
    """Register a successor of production, trained on data_init and batch_1 (not promoted)."""
    from components.finalize.logic import standalone_run
    from components.ingest.logic import ingest
    from components.train.logic import train

    config = config or LifecycleConfig()
    production = ModelRegistry(store, config.model.name).alias()
    with standalone_run(store, config, "retrain") as tx:
        first = ingest(
            store, str(COURSE / "data_init.csv"), "data_init", config.schema, tx.task("ingest")
        )
        batch = ingest(
            store, str(COURSE / "batch_1.csv"), "batch_1", config.schema, tx.task("ingest-2")
        )
        model, _ = train(store, config, [first.key, batch.key], None, production, tx.task("train"))
        tx.contribute({"registered": [model.version]})
    return model.version


def make_production(store: Store, version: str, config: LifecycleConfig | None = None) -> None:
    """Move ``production`` to ``version`` with a committed run whose promotion wins (as an
    operator's rollback or a winning challenger would)."""
    from components.finalize.logic import promotion_contribution, standalone_run
    from components.promote.logic import Promotion

    config = config or LifecycleConfig()
    champion = ModelRegistry(store, config.model.name).alias()
    with standalone_run(store, config, "promote") as tx:
        tx.contribute(
            promotion_contribution(
                Promotion(
                    version, champion, True, "test: promoted by hand", "RMSE", 0.0, 0.0, "test"
                )
            )
        )
    assert ModelRegistry(store, config.model.name).alias() == version
