"""KFP adapter of the promote stage."""

from typing import NamedTuple

from kfp import dsl
from kfp.dsl import Dataset, Input

from lifecycle.images import image_tag


@dsl.component(base_image=image_tag("promote"), install_kfp_package=False)
def promote(
    challenger_version: str,
    champion_version: str,
    data: Input[Dataset],
    batch_id: str,
    config_json: str,
) -> NamedTuple("PromoteOutputs", promoted=bool, production=str):
    """Move ``production`` to the challenger when it is not worse than the champion on the
    newest labelled batch; otherwise keep the champion and log why."""
    from collections import namedtuple

    from components.artifacts import dataset_key_of
    from components.promote.logic import promote as decide
    from lifecycle.config import config_from_json
    from lifecycle.store import open_store

    result = decide(
        open_store(),
        config_from_json(config_json),
        challenger_version,
        champion_version,
        dataset_key_of(data),
        batch_id,
    )
    print(("promoted: " if result.promoted else "kept champion: ") + result.reason)
    return namedtuple("PromoteOutputs", ["promoted", "production"])(
        result.promoted, result.production
    )
