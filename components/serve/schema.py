"""The served model's inputs: what the server's protocol and batch scoring (predict) check
requests and files against. No JSON codec or server here, so predict's image needs neither."""

from __future__ import annotations

from dataclasses import dataclass

from lifecycle.config import SchemaConfig

# Beyond this magnitude squared errors overflow float64 (as in the validate stage).
MAX_MAGNITUDE = 1e150


@dataclass(frozen=True)
class FeatureSpec:
    """One input column of the served model."""

    name: str
    categorical: bool
    minimum: float | None = None
    maximum: float | None = None


@dataclass(frozen=True)
class InputSchema:
    """The served model's inputs, in the order it was trained on."""

    features: tuple[FeatureSpec, ...]

    @classmethod
    def from_config(cls, schema: SchemaConfig) -> InputSchema:
        return cls(
            tuple(
                FeatureSpec(spec.name, spec.kind == "categorical", spec.min, spec.max)
                for spec in schema.features
            )
        )

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(feature.name for feature in self.features)

    @property
    def all_numeric(self) -> bool:
        return not any(feature.categorical for feature in self.features)
