"""KServe's V1 and the Open Inference Protocol V2 (REST): request parsing, validation, responses.

Pure functions of bytes and the schema, no server: a bad request raises :class:`RequestError`
with the HTTP status (400 for a body that is not a request at all, 422 for a request whose
content breaks the schema or a limit) and a message naming the field, e.g.
``inputs[0].data[3]: 'abc' is not a number (feature 'x')``.

Accepted V2 layouts (``POST /v2/models/<m>/infer``):

* one input per feature, named after it, of shape ``[N]`` or ``[N, 1]`` (numbers as ``FP64``,
  ``FP32`` or an integer type; categorical features as ``BYTES``);
* one input of shape ``[N, F]`` holding every (numeric) feature in schema order, any name
  (what MLServer's and KServe's numpy codecs send).

Accepted V1 bodies (``POST /v1/models/<m>:predict``): ``{"instances": [...]}`` (or ``"inputs"``),
each instance either a list of the feature values in schema order or an object by feature name.
"""

from __future__ import annotations

import json
import math
import re
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import orjson

from components.serve.schema import MAX_MAGNITUDE, FeatureSpec, InputSchema

NUMERIC_DATATYPES = frozenset(
    {
        "FP16",
        "FP32",
        "FP64",
        "INT8",
        "INT16",
        "INT32",
        "INT64",
        "UINT8",
        "UINT16",
        "UINT32",
        "UINT64",
    }
)
INTEGER_DATATYPES = frozenset(d for d in NUMERIC_DATATYPES if "INT" in d)
KNOWN_DATATYPES = NUMERIC_DATATYPES | {"BOOL", "BYTES"}
V2_REQUEST_FIELDS = frozenset({"id", "parameters", "inputs", "outputs"})
V2_INPUT_FIELDS = frozenset({"name", "shape", "datatype", "data", "parameters"})
OUTPUT_NAME = "predict"
_REQUEST_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:\-]*$")
_NUMBER_TYPES = frozenset({float, int})


class RequestError(Exception):
    """A request the server refuses: ``status`` (400, 404, 422) and a message naming the field."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class DecodedRequest:
    """A valid request: one column per feature (float64, or str objects), all of ``rows`` rows."""

    columns: dict[str, np.ndarray]
    rows: int
    request_id: str | None


# JSON -----------------------------------------------------------------------------------


def load_json(body: bytes) -> Any:
    """Parse a request body.

    NaN and Infinity are not JSON; a body holding them is parsed again leniently so that the
    error names the field they are in rather than a character offset.

    Raises:
        RequestError: 400, the body is not JSON.
    """
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        strict_error = str(exc)
    try:
        return json.loads(body)  # accepts NaN, Infinity: validation then names the field
    except (ValueError, UnicodeDecodeError):
        raise RequestError(400, f"body: not valid JSON: {strict_error}") from None


def dump_json(data: Any) -> bytes:
    return orjson.dumps(data, option=orjson.OPT_SERIALIZE_NUMPY)


def error_body(message: str) -> bytes:
    """KServe's error shape: ``{"error": "..."}``."""
    return orjson.dumps({"error": message})


# Columns --------------------------------------------------------------------------------


def _describe(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return repr(value) if not isinstance(value, list | dict) else type(value).__name__


def _numeric_column(
    values: Sequence[Any],
    feature: FeatureSpec,
    where: Callable[[int], str],
    integers_only: bool = False,
) -> np.ndarray:
    kinds = set(map(type, values))
    if not kinds <= _NUMBER_TYPES:
        index = next(i for i, v in enumerate(values) if type(v) not in _NUMBER_TYPES)
        raise RequestError(
            422,
            f"{where(index)}: {_describe(values[index])} is not a number "
            f"(feature {feature.name!r} is numeric)",
        )
    if integers_only and float in kinds:
        index = next(i for i, v in enumerate(values) if type(v) is float)
        raise RequestError(
            422, f"{where(index)}: {values[index]!r} is not an integer (the datatype is integer)"
        )
    try:
        column = np.asarray(values, dtype=np.float64)
    except OverflowError:
        column = np.asarray([float(v) for v in values], dtype=np.float64)
    bad = ~np.isfinite(column) | (np.abs(column) > MAX_MAGNITUDE)
    if bad.any():
        index = int(np.argmax(bad))
        problem = (
            "is not finite" if not math.isfinite(column[index]) else f"is beyond ±{MAX_MAGNITUDE:g}"
        )
        raise RequestError(422, f"{where(index)}: {_describe(values[index])} {problem}")
    if feature.minimum is not None and (low := column < feature.minimum).any():
        index = int(np.argmax(low))
        raise RequestError(
            422, f"{where(index)}: {values[index]!r} is below the minimum {feature.minimum:g}"
        )
    if feature.maximum is not None and (high := column > feature.maximum).any():
        index = int(np.argmax(high))
        raise RequestError(
            422, f"{where(index)}: {values[index]!r} is above the maximum {feature.maximum:g}"
        )
    return column


def _categorical_column(
    values: Sequence[Any], feature: FeatureSpec, where: Callable[[int], str]
) -> np.ndarray:
    for index, value in enumerate(values):
        if type(value) is not str:
            raise RequestError(
                422,
                f"{where(index)}: {_describe(value)} is not a string "
                f"(feature {feature.name!r} is categorical)",
            )
    return np.asarray(values, dtype=object)


def _column(
    values: Sequence[Any],
    feature: FeatureSpec,
    where: Callable[[int], str],
    integers_only: bool = False,
) -> np.ndarray:
    if feature.categorical:
        return _categorical_column(values, feature, where)
    return _numeric_column(values, feature, where, integers_only)


def _check_rows(rows: int, where: str, max_rows: int) -> None:
    if rows < 1:
        raise RequestError(422, f"{where}: no rows")
    if rows > max_rows:
        raise RequestError(422, f"{where}: {rows} rows exceed the limit of {max_rows}")


def check_request_id(value: Any, where: str, max_chars: int) -> str:
    """A client's request id, if usable as a log key.

    Raises:
        RequestError: 422, naming ``where``.
    """
    if not isinstance(value, str) or not value:
        raise RequestError(422, f"{where}: must be a non-empty string")
    if len(value) > max_chars:
        raise RequestError(422, f"{where}: longer than {max_chars} characters")
    if not _REQUEST_ID.match(value):
        raise RequestError(
            422, f"{where}: {value!r} may hold only letters, digits and '.', '_', ':', '-'"
        )
    return value


def new_request_id() -> str:
    return uuid.uuid4().hex


# V2 -------------------------------------------------------------------------------------


def _shape(value: Any, where: str) -> list[int]:
    if (
        not isinstance(value, list)
        or not value
        or not all(type(d) is int and d >= 0 for d in value)
    ):
        raise RequestError(422, f"{where}: must be a list of non-negative integers")
    return value


def _flatten(data: Any, shape: list[int], where: str) -> list[Any]:
    """V2 data is flat in row-major order; nested lists matching ``shape`` are flattened."""
    if not isinstance(data, list):
        raise RequestError(422, f"{where}: must be a list")
    expected = math.prod(shape)
    if data and isinstance(data[0], list):
        flat: list[Any] = data
        for depth in range(len(shape) - 1):
            if not all(isinstance(part, list) and len(part) == shape[depth + 1] for part in flat):
                raise RequestError(
                    422,
                    f"{where}: nested lists do not match the shape {shape} at depth {depth + 1}",
                )
            flat = [value for part in flat for value in part]
        data = flat
    if len(data) != expected:
        raise RequestError(422, f"{where}: {len(data)} values for the shape {shape} ({expected})")
    return data


def _v2_input(tensor: Any, index: int) -> tuple[str, list[int], str, Any]:
    where = f"inputs[{index}]"
    if not isinstance(tensor, dict):
        raise RequestError(422, f"{where}: must be an object with name, shape, datatype, data")
    unknown = sorted(set(tensor) - V2_INPUT_FIELDS)
    if unknown:
        raise RequestError(422, f"{where}.{unknown[0]}: unknown field")
    for field in ("name", "shape", "datatype", "data"):
        if field not in tensor:
            raise RequestError(422, f"{where}.{field}: missing")
    name, datatype = tensor["name"], tensor["datatype"]
    if not isinstance(name, str) or not name:
        raise RequestError(422, f"{where}.name: must be a non-empty string")
    if datatype not in KNOWN_DATATYPES:
        raise RequestError(
            422,
            f"{where}.datatype: unknown datatype {_describe(datatype)}"
            f" (expected one of {', '.join(sorted(KNOWN_DATATYPES))})",
        )
    return name, _shape(tensor["shape"], f"{where}.shape"), datatype, tensor["data"]


def _check_datatype(datatype: str, feature: FeatureSpec, where: str) -> None:
    if feature.categorical and datatype != "BYTES":
        raise RequestError(
            422, f"{where}: {datatype} for the categorical feature {feature.name!r}; send BYTES"
        )
    if not feature.categorical and datatype not in NUMERIC_DATATYPES:
        raise RequestError(
            422, f"{where}: {datatype} for the numeric feature {feature.name!r}; send FP64"
        )


def parse_v2(
    body: bytes, schema: InputSchema, max_rows: int, max_request_id_chars: int
) -> DecodedRequest:
    """Decode and validate an Open Inference Protocol V2 inference request.

    Raises:
        RequestError: 400 (not a JSON object) or 422 (naming the field at fault).
    """
    request = load_json(body)
    if not isinstance(request, dict):
        raise RequestError(400, "body: must be a JSON object with 'inputs'")
    unknown = sorted(set(request) - V2_REQUEST_FIELDS)
    if unknown:
        raise RequestError(
            422,
            f"{unknown[0]}: unknown field (a V2 request has "
            f"{', '.join(sorted(V2_REQUEST_FIELDS))})",
        )
    request_id = request.get("id")
    if request_id is not None:
        request_id = check_request_id(request_id, "id", max_request_id_chars)
    inputs = request.get("inputs")
    if not isinstance(inputs, list) or not inputs:
        raise RequestError(422, "inputs: missing or empty (expected a list of input tensors)")
    tensors = [_v2_input(tensor, index) for index, tensor in enumerate(inputs)]
    features = {feature.name: feature for feature in schema.features}
    names = [tensor[0] for tensor in tensors]
    if len(tensors) == 1 and names[0] not in features and len(tensors[0][1]) == 2:
        return DecodedRequest(*_v2_matrix(tensors[0], schema, max_rows), request_id)
    columns: dict[str, np.ndarray] = {}
    rows: int | None = None
    for index, (name, shape, datatype, data) in enumerate(tensors):
        where = f"inputs[{index}]"
        feature = features.get(name)
        if feature is None:
            raise RequestError(
                422, f"{where}.name: unknown feature {name!r} (expected {', '.join(schema.names)})"
            )
        if name in columns:
            raise RequestError(422, f"{where}.name: feature {name!r} given twice")
        if len(shape) > 2 or (len(shape) == 2 and shape[1] != 1):
            raise RequestError(422, f"{where}.shape: {shape} for one feature; use [N] or [N, 1]")
        _check_datatype(datatype, feature, f"{where}.datatype")
        _check_rows(shape[0], f"{where}.shape", max_rows)
        if rows is not None and shape[0] != rows:
            raise RequestError(422, f"{where}.shape: {shape[0]} rows, inputs[0] has {rows}")
        rows = shape[0]
        values = _flatten(data, shape, f"{where}.data")
        columns[name] = _column(
            values,
            feature,
            lambda i, w=where: f"{w}.data[{i}]",
            datatype in INTEGER_DATATYPES,
        )
    missing = [name for name in schema.names if name not in columns]
    if missing:
        raise RequestError(422, f"inputs: missing feature {missing[0]!r}")
    assert rows is not None
    return DecodedRequest({name: columns[name] for name in schema.names}, rows, request_id)


def _v2_matrix(
    tensor: tuple[str, list[int], str, Any], schema: InputSchema, max_rows: int
) -> tuple[dict[str, np.ndarray], int]:
    name, shape, datatype, data = tensor
    width = len(schema.features)
    if not schema.all_numeric:
        raise RequestError(
            422,
            f"inputs[0].name: unknown feature {name!r}: with categorical features send one "
            f"input per feature ({', '.join(schema.names)})",
        )
    if len(shape) != 2 or shape[1] != width:
        raise RequestError(
            422,
            f"inputs[0].shape: {shape}; one input holding every feature has the shape "
            f"[N, {width}] ({', '.join(schema.names)}), or name each input after its feature",
        )
    if datatype not in NUMERIC_DATATYPES:
        raise RequestError(422, f"inputs[0].datatype: {datatype} for numeric features; send FP64")
    _check_rows(shape[0], "inputs[0].shape", max_rows)
    values = _flatten(data, shape, "inputs[0].data")
    columns = {}
    for position, feature in enumerate(schema.features):
        columns[feature.name] = _column(
            values[position::width],
            feature,
            lambda i, p=position: f"inputs[0].data[{i * width + p}]",
            datatype in INTEGER_DATATYPES,
        )
    return columns, shape[0]


def v2_response(model_name: str, version: str, request_id: str, predictions: np.ndarray) -> bytes:
    """The V2 inference response, naming the model version that answered."""
    return dump_json(
        {
            "model_name": model_name,
            "model_version": version,
            "id": request_id,
            "outputs": [
                {
                    "name": OUTPUT_NAME,
                    "shape": [int(predictions.shape[0])],
                    "datatype": "FP64",
                    "data": predictions,
                }
            ],
        }
    )


def v2_model_metadata(model_name: str, version: str | None, schema: InputSchema) -> bytes:
    """``GET /v2/models/<m>``: the model's name, version, inputs and outputs."""
    return dump_json(
        {
            "name": model_name,
            "versions": [version] if version else [],
            "platform": "scikit-learn",
            "inputs": [
                {
                    "name": feature.name,
                    "datatype": "BYTES" if feature.categorical else "FP64",
                    "shape": [-1],
                }
                for feature in schema.features
            ],
            "outputs": [{"name": OUTPUT_NAME, "datatype": "FP64", "shape": [-1]}],
        }
    )


# V1 -------------------------------------------------------------------------------------


def parse_v1(body: bytes, schema: InputSchema, max_rows: int) -> DecodedRequest:
    """Decode and validate a KServe V1 ``:predict`` request.

    Raises:
        RequestError: 400 (not a JSON object) or 422 (naming the field at fault).
    """
    request = load_json(body)
    if not isinstance(request, dict):
        raise RequestError(400, "body: must be a JSON object with 'instances'")
    field = "instances" if "instances" in request else "inputs"
    instances = request.get(field)
    if not isinstance(instances, list):
        raise RequestError(422, "instances: missing (expected a list of rows)")
    _check_rows(len(instances), field, max_rows)
    names = schema.names
    if type(instances[0]) is list:
        for index, row in enumerate(instances):
            if type(row) is not list:
                raise RequestError(
                    422, f"{field}[{index}]: must be a list of values, as {field}[0] is"
                )
            if len(row) != len(names):
                raise RequestError(
                    422,
                    f"{field}[{index}]: {len(row)} values; expected {len(names)} "
                    f"({', '.join(names)})",
                )
        values_by_feature = list(zip(*instances, strict=True))
        columns = {
            feature.name: _column(
                values_by_feature[position],
                feature,
                lambda i, p=position: f"{field}[{i}][{p}]",
            )
            for position, feature in enumerate(schema.features)
        }
        return DecodedRequest(columns, len(instances), None)
    known = set(names)
    for index, row in enumerate(instances):
        if not isinstance(row, dict):
            raise RequestError(
                422,
                f"{field}[{index}]: must be an object by feature name"
                + (", as instances[0] is" if index else " or a list of values"),
            )
        for name in names:
            if name not in row:
                raise RequestError(422, f"{field}[{index}]: missing feature {name!r}")
        if len(row) != len(names):
            extra = next(key for key in row if key not in known)
            raise RequestError(
                422, f"{field}[{index}].{extra}: unknown feature (expected {', '.join(names)})"
            )
    columns = {
        feature.name: _column(
            [row[feature.name] for row in instances],
            feature,
            lambda i, n=feature.name: f"{field}[{i}].{n}",
        )
        for feature in schema.features
    }
    return DecodedRequest(columns, len(instances), None)


def v1_response(model_name: str, version: str, request_id: str, predictions: np.ndarray) -> bytes:
    """KServe's V1 response, plus the model's name and version and the request id."""
    return dump_json(
        {
            "predictions": predictions,
            "model_name": model_name,
            "model_version": version,
            "id": request_id,
        }
    )
