"""The V1 and V2 request parsing and validation of the inference server (no server)."""

from __future__ import annotations

import json

import numpy as np
import orjson
import pytest

from components.serve.protocol import (
    RequestError,
    parse_v1,
    parse_v2,
    v1_response,
    v2_model_metadata,
    v2_response,
)
from components.serve.schema import FeatureSpec, InputSchema

COURSE = InputSchema((FeatureSpec("x", False),))
MIXED = InputSchema(
    (FeatureSpec("age", False, 0, 120), FeatureSpec("sex", True), FeatureSpec("bmi", False))
)
MAX_ROWS = 100


def v2(*inputs: dict, **extra) -> bytes:
    return json.dumps({"inputs": list(inputs), **extra}).encode()


def tensor(name: str, data: list, shape: list | None = None, datatype: str = "FP64") -> dict:
    return {"name": name, "shape": shape or [len(data)], "datatype": datatype, "data": data}


def refused(body: bytes, schema: InputSchema = COURSE, version: int = 2) -> RequestError:
    with pytest.raises(RequestError) as caught:
        if version == 2:
            parse_v2(body, schema, MAX_ROWS, 64)
        else:
            parse_v1(body, schema, MAX_ROWS)
    return caught.value


# V2 -------------------------------------------------------------------------------------


def test_one_input_per_feature():
    decoded = parse_v2(v2(tensor("x", [1, 2.5])), COURSE, MAX_ROWS, 64)
    assert decoded.rows == 2 and decoded.request_id is None
    np.testing.assert_array_equal(decoded.columns["x"], [1.0, 2.5])
    assert decoded.columns["x"].dtype == np.float64


@pytest.mark.parametrize("shape", [[3, 1], [3]])
def test_a_column_of_shape_n_or_n_by_1(shape):
    decoded = parse_v2(v2(tensor("x", [1, 2, 3], shape)), COURSE, MAX_ROWS, 64)
    assert decoded.rows == 3


def test_nested_data_matching_the_shape_is_flattened():
    decoded = parse_v2(v2(tensor("x", [[1], [2]], [2, 1])), COURSE, MAX_ROWS, 64)
    np.testing.assert_array_equal(decoded.columns["x"], [1.0, 2.0])


def test_one_matrix_of_every_feature_in_schema_order():
    schema = InputSchema((FeatureSpec("a", False), FeatureSpec("b", False)))
    body = v2(tensor("input-0", [1, 10, 2, 20, 3, 30], [3, 2]))
    decoded = parse_v2(body, schema, MAX_ROWS, 64)
    np.testing.assert_array_equal(decoded.columns["a"], [1, 2, 3])
    np.testing.assert_array_equal(decoded.columns["b"], [10, 20, 30])


def test_categorical_features_as_bytes():
    body = v2(
        tensor("age", [30, 40]), tensor("sex", ["M", "F"], datatype="BYTES"), tensor("bmi", [1, 2])
    )
    decoded = parse_v2(body, MIXED, MAX_ROWS, 64)
    assert list(decoded.columns) == ["age", "sex", "bmi"]
    assert decoded.columns["sex"].tolist() == ["M", "F"]


def test_the_request_id_is_kept():
    assert parse_v2(v2(tensor("x", [1]), id="abc-1"), COURSE, MAX_ROWS, 64).request_id == "abc-1"


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        (b"{", 400, "body: not valid JSON"),
        (b"[1, 2]", 400, "body: must be a JSON object"),
        (v2(tensor("z", [1])), 422, "inputs[0].name: unknown feature 'z' (expected x)"),
        (json.dumps({"inputs": []}).encode(), 422, "inputs: missing or empty"),
        (json.dumps({"instances": [[1]]}).encode(), 422, "instances: unknown field"),
        (v2({"name": "x", "shape": [1], "data": [1]}), 422, "inputs[0].datatype: missing"),
        (v2(tensor("x", [1], datatype="FP99")), 422, "inputs[0].datatype: unknown datatype"),
        (v2(tensor("x", ["a"], datatype="BYTES")), 422, "BYTES for the numeric feature 'x'"),
        (v2(tensor("x", [1, "abc"])), 422, "inputs[0].data[1]: 'abc' is not a number"),
        (v2(tensor("x", [1, None])), 422, "inputs[0].data[1]: null is not a number"),
        (v2(tensor("x", [True])), 422, "inputs[0].data[0]: true is not a number"),
        (v2(tensor("x", [1.5], datatype="INT64")), 422, "inputs[0].data[0]: 1.5 is not an integer"),
        (v2(tensor("x", [1, 2], [3])), 422, "inputs[0].data: 2 values for the shape [3]"),
        (v2(tensor("x", [1], [1, 2])), 422, "inputs[0].shape: [1, 2] for one feature"),
        (v2(tensor("x", [1]), tensor("x", [2])), 422, "inputs[1].name: feature 'x' given twice"),
        (v2(tensor("x", [1]), id=""), 422, "id: must be a non-empty string"),
        (v2(tensor("x", [1]), id="a b"), 422, "id: 'a b' may hold only"),
        (v2(tensor("x", [1e200])), 422, "inputs[0].data[0]: 1e+200 is beyond"),
        (v2(tensor("x", [1] * (MAX_ROWS + 1))), 422, f"101 rows exceed the limit of {MAX_ROWS}"),
        (v2(tensor("x", [], [0])), 422, "inputs[0].shape: no rows"),
    ],
)
def test_bad_v2_requests_name_the_field(body, status, message):
    error = refused(body)
    assert error.status == status
    assert message in error.message


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinity_name_their_field(literal):
    body = b'{"inputs": [{"name": "x", "shape": [2], "datatype": "FP64", "data": [1, %s]}]}' % (
        literal.encode()
    )
    error = refused(body)
    assert error.status == 422
    assert error.message.startswith("inputs[0].data[1]: ") and "not finite" in error.message


def test_a_missing_feature_is_named():
    error = refused(v2(tensor("age", [1]), tensor("bmi", [2])), MIXED)
    assert (error.status, error.message) == (422, "inputs: missing feature 'sex'")


def test_rows_must_agree_across_inputs():
    body = v2(tensor("age", [1, 2]), tensor("sex", ["M"], datatype="BYTES"), tensor("bmi", [2, 3]))
    assert "inputs[1].shape: 1 rows, inputs[0] has 2" in refused(body, MIXED).message


def test_schema_ranges_are_enforced():
    body = v2(tensor("age", [130]), tensor("sex", ["M"], datatype="BYTES"), tensor("bmi", [1]))
    assert refused(body, MIXED).message == "inputs[0].data[0]: 130 is above the maximum 120"


def test_a_categorical_feature_needs_strings():
    body = v2(tensor("age", [1]), tensor("sex", [1], datatype="BYTES"), tensor("bmi", [1]))
    assert "inputs[1].data[0]: 1 is not a string (feature 'sex' is categorical)" in (
        refused(body, MIXED).message
    )


def test_a_matrix_names_the_flat_position_of_a_bad_value():
    schema = InputSchema((FeatureSpec("a", False), FeatureSpec("b", False)))
    error = refused(v2(tensor("m", [1, 2, 3, "q"], [2, 2])), schema)
    assert error.message.startswith("inputs[0].data[3]: 'q' is not a number (feature 'b'")


def test_a_matrix_of_the_wrong_width_is_refused():
    schema = InputSchema((FeatureSpec("a", False), FeatureSpec("b", False)))
    assert "has the shape [N, 2]" in refused(v2(tensor("m", [1, 2, 3], [1, 3])), schema).message


# V1 -------------------------------------------------------------------------------------


def test_v1_rows_as_lists_or_objects():
    lists = parse_v1(b'{"instances": [[1], [2]]}', COURSE, MAX_ROWS)
    objects = parse_v1(b'{"instances": [{"x": 1}, {"x": 2}]}', COURSE, MAX_ROWS)
    inputs = parse_v1(b'{"inputs": [[1], [2]]}', COURSE, MAX_ROWS)
    for decoded in (lists, objects, inputs):
        assert decoded.rows == 2
        np.testing.assert_array_equal(decoded.columns["x"], [1.0, 2.0])


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b'{"rows": [[1]]}', "instances: missing"),
        (b'{"instances": [[1, 2]]}', "instances[0]: 2 values; expected 1 (x)"),
        (b'{"instances": [{"y": 1}]}', "instances[0]: missing feature 'x'"),
        (b'{"instances": [{"x": 1, "y": 2}]}', "instances[0].y: unknown feature"),
        (b'{"instances": [{"x": "a"}]}', "instances[0].x: 'a' is not a number"),
        (b'{"instances": [[1], ["a"]]}', "instances[1][0]: 'a' is not a number"),
        (b'{"instances": [[1], {"x": 1}]}', "instances[1]: must be a list of values"),
        (b'{"instances": []}', "instances: no rows"),
    ],
)
def test_bad_v1_requests_name_the_field(body, message):
    error = refused(body, version=1)
    assert error.status == 422 and message in error.message


# Responses ------------------------------------------------------------------------------


def test_responses_name_the_model_version_and_the_request():
    predictions = np.asarray([1.5, 2.5])
    body = orjson.loads(v2_response("course", "1.3", "r1", predictions))
    assert body["model_version"] == "1.3" and body["id"] == "r1"
    assert body["outputs"] == [
        {"name": "predict", "shape": [2], "datatype": "FP64", "data": [1.5, 2.5]}
    ]
    v1 = orjson.loads(v1_response("course", "1.3", "r1", predictions))
    assert v1 == {
        "predictions": [1.5, 2.5],
        "model_name": "course",
        "model_version": "1.3",
        "id": "r1",
    }


def test_model_metadata_lists_the_inputs():
    body = orjson.loads(v2_model_metadata("diabetes", "1.0", MIXED))
    assert body["versions"] == ["1.0"]
    assert [(i["name"], i["datatype"]) for i in body["inputs"]] == [
        ("age", "FP64"),
        ("sex", "BYTES"),
        ("bmi", "FP64"),
    ]
