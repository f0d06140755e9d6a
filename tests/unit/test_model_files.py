"""Model files: skops, loaded only when every type in them is one the config's estimator
trusts (lifecycle/model_files.py, through the registry)."""

from __future__ import annotations

import io
import json
import uuid
import zipfile

import numpy as np
import pandas as pd
import pytest
import skops.io

from lifecycle.config import ColumnSpec, ModelConfig, SchemaConfig
from lifecycle.errors import IntegrityError, InvalidInputError
from lifecycle.estimators import build_estimator
from lifecycle.model_files import (
    SCHEMA_MEMBER,
    VALUE_TYPES,
    ModelFileError,
    check_file,
    file_types,
    load_model,
    trusted_types,
)
from lifecycle.registry import ModelRegistry
from lifecycle.runs import RunContext
from lifecycle.store import LocalStore
from tests.helpers import store_listing

LINEAR = ModelConfig(estimator="sklearn.linear_model.LinearRegression")
SCHEMA = SchemaConfig(
    features=(ColumnSpec(name="a"), ColumnSpec(name="b"), ColumnSpec(name="c", kind="categorical")),
    target=ColumnSpec(name="y"),
)


def _data(rows: int = 120) -> tuple[pd.DataFrame, pd.Series]:
    rng = np.random.default_rng(7)
    frame = pd.DataFrame(
        {
            "a": rng.uniform(0, 5, rows),
            "b": rng.uniform(0, 5, rows),
            "c": rng.choice(["p", "q", "r"], rows),
        }
    )
    return frame, pd.Series(3 * frame["a"] - frame["b"] + 10 + rng.normal(0, 0.1, rows))


def _fitted(model: ModelConfig, schema: SchemaConfig = SCHEMA):
    frame, target = _data()
    return build_estimator(model, schema).fit(frame[schema.feature_names], target)


RUN = "run-1"


def _registry(tmp_path, model: ModelConfig | None = LINEAR) -> ModelRegistry:
    """A registry that sees the uncommitted versions of the run that registers them."""
    return ModelRegistry(LocalStore(tmp_path / "store"), "m", own_run=RUN, model=model)


def _register(registry: ModelRegistry, fitted, **metadata):
    return registry.register(fitted, RunContext(RUN, f"train-{uuid.uuid4().hex[:8]}"), **metadata)


def _meta(model: ModelConfig) -> dict:
    return dict(
        estimator=model.estimator, params=model.params, features=["a", "b", "c"], target="y",
        training_datasets=[],
    )  # fmt: skip


ESTIMATORS = [
    ModelConfig(estimator="sklearn.linear_model.LinearRegression"),
    ModelConfig(estimator="sklearn.linear_model.Ridge", params={"alpha": 0.1}),
    ModelConfig(estimator="sklearn.ensemble.RandomForestRegressor", params={"n_estimators": 4}),
    ModelConfig(estimator="sklearn.ensemble.GradientBoostingRegressor", params={"n_estimators": 5}),
    ModelConfig(estimator="sklearn.ensemble.HistGradientBoostingRegressor", params={"max_iter": 5}),
    ModelConfig(estimator="sklearn.neighbors.KNeighborsRegressor"),
    ModelConfig(estimator="sklearn.linear_model.PoissonRegressor"),
    ModelConfig(estimator="sklearn.svm.SVR"),
]


@pytest.mark.parametrize("model", ESTIMATORS, ids=lambda m: m.estimator.rsplit(".", 1)[1])
def test_every_kind_of_regressor_round_trips_through_the_registry(tmp_path, model):
    fitted = _fitted(model)
    registry = _registry(tmp_path, model)
    version = _register(registry, fitted, **_meta(model)).version
    loaded, meta = registry.load_artifact(version)
    frame, _ = _data()
    assert np.array_equal(loaded.predict(frame), fitted.predict(frame))
    assert registry.artifact(version)[:2] == b"PK"  # a zip: skops, not a pickle
    assert meta.artifact_sha256 and meta.estimator == model.estimator


def test_the_trusted_types_are_the_estimators_own_and_plain_values():
    linear = trusted_types(LINEAR)
    own = {t for t in linear.types - VALUE_TYPES if t.endswith("LinearRegression")}
    assert own == {"sklearn.linear_model._base.LinearRegression"}
    assert "sklearn.linear_model._ridge.Ridge" not in linear.types
    assert not any(t.startswith(("builtins.exec", "builtins.eval", "os.")) for t in linear.types)
    forest = trusted_types(ModelConfig(estimator="sklearn.ensemble.RandomForestRegressor"))
    assert "sklearn.tree._tree.Tree" in forest.types  # what a forest holds, found by fitting one
    assert "sklearn.tree._tree.Tree" not in linear.types
    assert {"MethodNode", "OperatorFuncNode", "FunctionNode"}.isdisjoint(linear.loaders)


def test_a_model_of_another_estimator_is_refused_before_it_is_written(tmp_path):
    registry = _registry(tmp_path)
    ridge = ModelConfig(estimator="sklearn.linear_model.Ridge")
    before = store_listing(registry.store)
    with pytest.raises(InvalidInputError, match=r"untrusted type sklearn\.linear_model\._ridge"):
        _register(registry, _fitted(ridge), **_meta(LINEAR))
    assert store_listing(registry.store) == before  # not even a version claim


def test_a_stored_model_of_another_estimator_is_refused_by_the_configured_registry(tmp_path):
    ridge = ModelConfig(estimator="sklearn.linear_model.Ridge")
    version = _register(_registry(tmp_path, ridge), _fitted(ridge), **_meta(ridge)).version
    with pytest.raises(IntegrityError, match=r"'m' 1\.0: .*untrusted type sklearn\.linear_model"):
        _registry(tmp_path, LINEAR).load_artifact(version)


def _zip(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return out.getvalue()


NOT_SKOPS = {
    "pickle": (b"\x80\x05\x95...", "a pickle"),
    "empty": (b"", "an empty file"),
    "text": (b"model", "not a zip archive"),
    "zip without schema": (_zip({"a.txt": b"x"}), "no schema.json"),
    "schema not JSON": (_zip({SCHEMA_MEMBER: b"{nope"}), "unreadable schema.json"),
    "node without module": (
        _zip({SCHEMA_MEMBER: json.dumps({"__class__": "X", "__loader__": "ObjectNode"}).encode()}),
        "no module and class name",
    ),
    "deeply nested": (_zip({SCHEMA_MEMBER: b"[" * 100_000 + b"]" * 100_000}), "not a skops file"),
}


@pytest.mark.parametrize("name", sorted(NOT_SKOPS))
def test_what_is_not_a_skops_file_is_named(name):
    data, expected = NOT_SKOPS[name]
    with pytest.raises(ModelFileError, match=expected):
        load_model(data, trusted_types(LINEAR))


def test_an_oversized_type_tree_is_refused_unread(monkeypatch):
    from lifecycle import model_files

    monkeypatch.setattr(model_files, "MAX_SCHEMA_BYTES", 100)
    data = skops.io.dumps(_fitted(LINEAR))
    with pytest.raises(ModelFileError, match="over the limit"):
        file_types(data)


def test_a_node_kind_that_loads_a_method_is_refused_even_on_a_trusted_type():
    data = skops.io.dumps(_fitted(LINEAR))
    tree = json.loads(zipfile.ZipFile(io.BytesIO(data)).read(SCHEMA_MEMBER))
    tree["content"]["content"]["tol"] = {
        "__class__": "LinearRegression",
        "__module__": "sklearn.linear_model._base",
        "__loader__": "MethodNode",
        "content": {"func": "fit", "obj": {}},
    }
    members = {
        n: zipfile.ZipFile(io.BytesIO(data)).read(n)
        for n in zipfile.ZipFile(io.BytesIO(data)).namelist()
    }
    members[SCHEMA_MEMBER] = json.dumps(tree).encode()
    with pytest.raises(ModelFileError, match="node kind MethodNode"):
        check_file(_zip(members), trusted_types(LINEAR))


def test_a_dict_of_plain_values_loads_but_is_not_a_model(tmp_path):
    # Plain values are trusted, so only the registry's predict() check stands.
    registry = _registry(tmp_path)
    version = _register(registry, _fitted(LINEAR), **_meta(LINEAR)).version
    from tests.payloads import plant

    plant(registry.store, "m", version, skops.io.dumps({"not": "a model"}))
    with pytest.raises(IntegrityError, match=r"has no predict\(\)"):
        registry.load_artifact(version)


def test_a_registry_without_a_config_trusts_what_the_metadata_names(tmp_path):
    ridge = ModelConfig(estimator="sklearn.linear_model.Ridge")
    registry = _registry(tmp_path, None)
    version = _register(registry, _fitted(ridge), **_meta(ridge)).version
    loaded, _ = registry.load_artifact(version)
    assert type(loaded).__name__ == "Pipeline"


def test_a_registry_without_a_config_needs_the_estimators_path(tmp_path):
    registry = _registry(tmp_path, None)
    before = store_listing(registry.store)
    with pytest.raises(InvalidInputError, match="not a scikit-learn regressor's dotted path"):
        _register(registry, _fitted(LINEAR), **{**_meta(LINEAR), "estimator": "LinearRegression"})
    assert store_listing(registry.store) == before
