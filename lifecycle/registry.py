"""The model registry: versions 1.0, 1.1, 1.2, … with metadata and a ``production`` alias.

A version is allocated with an exclusive claim that names the run and task claiming it, so two
concurrent retrains never write the same number and a second attempt of the same task reuses
its first attempt's number. Its artifact is written before its metadata, and the version counts
for readers only once the run that registered it has committed (:mod:`lifecycle.commits`);
a run that never commits leaves a claim that :mod:`lifecycle.recovery` releases. Aliases live
in the commit log: ``production`` moves when a run that promoted commits.

Models are skops files (:mod:`lifecycle.model_files`), never pickles: a load checks the
file's sha256 against its metadata, then that every type in the file is one the config's
estimator trusts, and only then builds the model. Anyone who can write the store can
rewrite a file and its metadata alike, so the hash only tells damage apart; the trusted
types are what keep a rewritten file from running code.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from lifecycle import keys
from lifecycle.commits import CommitLog, Visibility
from lifecycle.config import ModelConfig
from lifecycle.errors import (
    IntegrityError,
    InvalidInputError,
    KeyNotFoundError,
    LifecycleError,
    ModelNotFoundError,
)
from lifecycle.model_files import ModelFileError, TrustedTypes, check_file, dumps, load_model
from lifecycle.model_files import trusted_types as trusted_types_of
from lifecycle.objects import load_objects, now_stamp
from lifecycle.runs import RunContext
from lifecycle.store import Store
from lifecycle.store.base import validate_name

FIRST_VERSION = (1, 0)


def parse_version(version: str) -> tuple[int, int]:
    """``"1.10"`` -> ``(1, 10)``.

    Raises:
        ModelNotFoundError: not of the form MAJOR.MINOR.
    """
    major, dot, minor = version.partition(".")
    if not (dot and major.isdigit() and minor.isdigit()):
        raise ModelNotFoundError(
            f"invalid model version {version!r}: expected MAJOR.MINOR, e.g. 1.0"
        )
    return int(major), int(minor)


def format_version(version: tuple[int, int]) -> str:
    return f"{version[0]}.{version[1]}"


@dataclass(frozen=True)
class ModelVersion:
    """Metadata of one registered model version."""

    name: str
    version: str
    created_at: str
    estimator: str
    params: dict[str, Any]
    features: list[str]
    target: str
    training_datasets: list[dict[str, str]]
    artifact_sha256: str
    parent_version: str | None = None
    test_metrics: dict[str, float] = field(default_factory=dict)
    test_dataset: str | None = None
    description: str = ""
    run_id: str | None = None
    task: str | None = None

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True, indent=1)

    @property
    def training_keys(self) -> list[str]:
        return [dataset["key"] for dataset in self.training_datasets]


class ModelRegistry:
    """The versions of one model name in a store, as one reader sees them.

    Models are loaded only with the types the config's estimator trusts: pass ``model``. A
    registry built without it trusts, per version, the types of the scikit-learn regressor
    its metadata names, which is never more than a scikit-learn model's types.

    Args:
        store: the artefact store.
        name: the model's name.
        own_run: the run of the task reading, whose own uncommitted versions it sees too.
        model: the config's ``model:`` section, whose estimator decides the types a model
            file may hold.
    """

    def __init__(
        self,
        store: Store,
        name: str,
        own_run: str | None = None,
        model: ModelConfig | None = None,
    ):
        self.store = store
        self.name = name
        self.own_run = own_run
        self.model = model
        self._prefix = keys.model_prefix(name)

    def _visibility(self) -> Visibility:
        return CommitLog(self.store).visibility(self.own_run)

    def versions(self) -> list[str]:
        """Every version that counts (its run committed, or it is the reader's), oldest first."""
        metas = [
            key
            for key in self.store.list_keys(f"{self._prefix}versions/")
            if key.endswith(f"/{keys.META_FILE}")
        ]
        visibility = self._visibility()
        found = [
            meta["version"]
            for meta in load_objects(self.store, metas, cached=False)
            if visibility.counts(meta)
        ]
        return sorted(found, key=parse_version)

    def claims(self) -> dict[str, dict[str, Any]]:
        """Every claimed version number -> who claimed it (run id and task)."""
        listed = self.store.list_keys(f"{self._prefix}claims/")
        return {
            key.rsplit("/", 1)[1]: claim
            for key, claim in zip(
                listed, load_objects(self.store, listed, cached=False), strict=True
            )
        }

    def get(self, version: str) -> ModelVersion:
        """Metadata of ``version``.

        Raises:
            ModelNotFoundError: no such complete version that counts for this reader.
        """
        parse_version(version)
        try:
            raw = self.store.get_bytes(
                keys.model_version_prefix(self.name, version) + keys.META_FILE
            )
        except KeyNotFoundError:
            raw = None
        meta = json.loads(raw) if raw is not None else None
        if meta is None or not self._visibility().counts(meta):
            raise ModelNotFoundError(
                f"model {self.name!r} has no version {version!r} in store {self.store.uri}"
            )
        return ModelVersion(**meta)

    def register(
        self,
        fitted: Any,
        run: RunContext,
        attachments: Mapping[str, bytes | Path] | None = None,
        **metadata: Any,
    ) -> ModelVersion:
        """Save ``fitted`` as the next version (1.0 first, then 1.1, 1.2, …) of ``run``.

        Args:
            fitted: a fitted scikit-learn estimator.
            run: the run and task registering it; a second attempt of that task reuses the
                version number its first attempt claimed.
            attachments: more files of the version (name -> bytes, or a file streamed to the
                store), e.g. its reference profile; written, like the artifact, before the
                metadata.
            **metadata: the remaining :class:`ModelVersion` fields except name, version,
                created_at, artifact_sha256, run_id and task. ``estimator`` is the
                scikit-learn class's dotted path (e.g. ``sklearn.linear_model.Ridge``): a
                registry built without a config loads the version with its trusted types.

        Returns:
            The new version's metadata.

        Raises:
            InvalidInputError: the model cannot be stored as a skops file, or its file would
                hold a type its estimator's trusted types leave out, or (no config) the
                metadata's estimator is not a scikit-learn regressor's path: it could never
                be loaded. Nothing is written.
        """
        estimator = metadata.get("estimator") or (self.model.estimator if self.model else "")
        try:
            artifact = dumps(fitted)
            check_file(artifact, self._trusted(estimator))
        except ModelFileError as exc:
            raise InvalidInputError(f"config model.estimator: a fitted {estimator} {exc}") from None
        except IntegrityError:
            raise InvalidInputError(
                f"model {self.name!r}: estimator {estimator!r} is not a scikit-learn regressor's "
                "dotted path (e.g. sklearn.linear_model.LinearRegression), so the version could "
                "never be loaded"
            ) from None
        digest = hashlib.sha256(artifact).hexdigest()
        version = self._claim_next_version(run)
        model = ModelVersion(
            name=self.name,
            version=version,
            created_at=now_stamp(),
            artifact_sha256=digest,
            run_id=run.run_id,
            task=run.task,
            **metadata,
        )
        prefix = keys.model_version_prefix(self.name, version)
        self.store.put_bytes(prefix + keys.MODEL_FILE, artifact)
        for name, data in (attachments or {}).items():
            key = prefix + validate_name(name, "attachment name")
            if isinstance(data, Path):
                self.store.put_file(key, data)
            else:
                self.store.put_bytes(key, data)
        self.store.put_bytes(prefix + keys.META_FILE, model.to_json().encode())
        return model

    def _claim_next_version(self, run: RunContext) -> str:
        claims = self.claims()
        for version, claim in claims.items():
            if (claim.get("run_id"), claim.get("task")) == (run.run_id, run.task):
                return version  # a second attempt of the task that claimed it
        taken = [parse_version(version) for version in claims]
        candidate = FIRST_VERSION if not taken else (max(taken)[0], max(taken)[1] + 1)
        claim = json.dumps({**run.stamp(), "claimed_at": now_stamp()}).encode()
        while not self.store.put_if_absent(
            keys.model_claim_key(self.name, format_version(candidate)), claim
        ):
            candidate = (candidate[0], candidate[1] + 1)
        return format_version(candidate)

    def artifact(self, version: str) -> bytes:
        """The model file (skops) of ``version``, once its sha256 matches its metadata and
        every type in it is trusted (nothing is built from it here).

        Raises:
            ModelNotFoundError: unknown version or missing artifact.
            IntegrityError: the artifact's hash differs from the metadata, or it is not a
                skops file of trusted types.
        """
        artifact, model = self._verified(version)
        try:
            check_file(artifact, self._trusted(model.estimator, version))
        except ModelFileError as exc:
            raise self._refused(version, exc) from None
        return artifact

    def _trusted(self, estimator: str, version: str | None = None) -> TrustedTypes:
        """The configured estimator's trusted types; without a config, those of the
        scikit-learn regressor ``estimator`` (a version's metadata) names."""
        if self.model is not None:
            return trusted_types_of(self.model)
        try:
            return trusted_types_of(ModelConfig(name=self.name, estimator=estimator))
        except (ValidationError, LifecycleError):
            what = f"{self.name!r} {version}" if version else repr(self.name)
            raise IntegrityError(
                f"model {what}: its metadata names estimator {estimator!r}, not a "
                "scikit-learn regressor; refusing to load it"
            ) from None

    def _refused(self, version: str, exc: ModelFileError) -> IntegrityError:
        key = keys.model_version_prefix(self.name, version) + keys.MODEL_FILE
        return IntegrityError(f"model {self.name!r} {version}: {key!r} {exc}; refusing to load it")

    def _verified(self, version: str) -> tuple[bytes, ModelVersion]:
        model = self.get(version)
        key = keys.model_version_prefix(self.name, version) + keys.MODEL_FILE
        try:
            artifact = self.store.get_bytes(key)
        except KeyNotFoundError:
            raise ModelNotFoundError(
                f"model {self.name!r} {version}: artifact {key!r} is missing"
            ) from None
        actual = hashlib.sha256(artifact).hexdigest()
        if actual != model.artifact_sha256:
            raise IntegrityError(
                f"model {self.name!r} {version}: artifact {key!r} has sha256 {actual[:12]}…, "
                f"metadata says {model.artifact_sha256[:12]}…; refusing to load it"
            )
        return artifact, model

    def load_artifact(self, version: str) -> tuple[Any, ModelVersion]:
        """Build the model of ``version`` after checking its sha256 against its metadata and
        every type in its file against the trusted types.

        Raises:
            ModelNotFoundError: unknown version or missing artifact.
            IntegrityError: the artifact's hash differs from the metadata, it is not a skops
                file, it names a type that is not trusted (each refused before anything in
                it is imported or built), or it does not hold a model.
        """
        artifact, model = self._verified(version)
        try:
            fitted = load_model(artifact, self._trusted(model.estimator, version))
        except ModelFileError as exc:
            raise self._refused(version, exc) from None
        if not callable(getattr(fitted, "predict", None)):
            raise IntegrityError(
                f"model {self.name!r} {version}: artifact is not a model: "
                f"a {type(fitted).__name__} has no predict()"
            )
        return fitted, model

    def alias(self, alias: str = keys.PRODUCTION_ALIAS) -> str | None:
        """The version an alias names after the latest commit, or None when it is unset."""
        return CommitLog(self.store).alias(self.name, alias)

    def resolve(self, reference: str) -> str:
        """Turn ``production`` (or another alias) or an explicit version into a version.

        Raises:
            ModelNotFoundError: the alias is unset or the version does not exist.
        """
        if reference and reference[0].isdigit():
            self.get(reference)
            return reference
        version = self.alias(reference or keys.PRODUCTION_ALIAS)
        if version is None:
            raise ModelNotFoundError(
                f"model {self.name!r} has no {reference or keys.PRODUCTION_ALIAS!r} version in "
                f"store {self.store.uri}; run the training pipeline first (lifecycle train)"
            )
        return version
