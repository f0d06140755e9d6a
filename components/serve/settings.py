"""The serving settings: one frozen, validated object for the server, its limits, reload and log."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from components.serve.defaults import (
    DEFAULT_HOST,
    DEFAULT_PORT,
    LOG_FLUSH_ROWS,
    LOG_FLUSH_SECONDS,
    LOG_MAX_BUFFERED_ROWS,
    MAX_BODY_BYTES,
    MAX_ROWS,
    RELOAD_SECONDS,
)
from lifecycle.config import LifecycleConfig
from lifecycle.errors import InvalidInputError


class Limits(BaseModel):
    """What a request may hold; beyond it the server answers 400 or 422, never 500."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    max_body_bytes: int = Field(default=MAX_BODY_BYTES, ge=64)
    max_rows: int = Field(default=MAX_ROWS, ge=1)
    max_request_id_chars: int = Field(default=128, ge=8)


class LogSettings(BaseModel):
    """The prediction log: a bounded queue flushed to the store off the request path."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    enabled: bool = True
    # A flush happens when this many rows wait, or when the oldest has waited flush_seconds.
    flush_rows: int = Field(default=LOG_FLUSH_ROWS, ge=1)
    flush_seconds: float = Field(default=LOG_FLUSH_SECONDS, gt=0)
    # Rows held in memory at most (queued plus held back by a store outage); beyond it new rows
    # are dropped and counted, never failing a request.
    max_buffered_rows: int = Field(default=LOG_MAX_BUFFERED_ROWS, ge=1)
    # How long a clean shutdown keeps retrying the store to flush what it acknowledged.
    shutdown_seconds: float = Field(default=20.0, ge=0)
    # Where rows go that the store still refuses at shutdown (and are sent at the next start).
    spool_dir: str | None = None


class ServeSettings(BaseModel):
    """Everything ``lifecycle serve`` needs besides the store."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    host: str = DEFAULT_HOST
    port: int = Field(default=DEFAULT_PORT, ge=0, le=65535)
    model_name: str = ""
    # How often the production alias is read; a promotion is served within about this long.
    reload_seconds: float = Field(default=RELOAD_SECONDS, gt=0, le=3600)
    limits: Limits = Field(default_factory=Limits)
    log: LogSettings = Field(default_factory=LogSettings)
    lifecycle: LifecycleConfig = Field(default_factory=LifecycleConfig)

    @property
    def served_model(self) -> str:
        """The model name in the URLs: ``--model``, else the config's model name."""
        return self.model_name or self.lifecycle.model.name

    def to_json(self) -> str:
        return self.model_dump_json(by_alias=True)

    @classmethod
    def from_json(cls, text: str) -> ServeSettings:
        """Parse settings serialised by :meth:`to_json` (the server process reads them so).

        Raises:
            InvalidInputError: naming the setting at fault.
        """
        try:
            return cls.model_validate_json(text)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(part) for part in error['loc'])}: {error['msg']}"
                for error in exc.errors()
            )
            raise InvalidInputError(f"invalid serve settings: {problems}") from None


def build_settings(lifecycle: LifecycleConfig, **values: object) -> ServeSettings:
    """Validate the serving settings given on the command line (None means the default).

    Raises:
        InvalidInputError: a value out of range, naming its option.
    """
    limits = {k: v for k, v in values.pop("limits", {}).items() if v is not None}  # type: ignore[union-attr]
    log = {k: v for k, v in values.pop("log", {}).items() if v is not None}  # type: ignore[union-attr]
    top = {k: v for k, v in values.items() if v is not None}
    try:
        return ServeSettings(
            lifecycle=lifecycle, limits=Limits(**limits), log=LogSettings(**log), **top
        )
    except ValidationError as exc:
        error = exc.errors()[0]
        option = "--" + str(error["loc"][-1]).replace("_", "-") if error["loc"] else "settings"
        raise InvalidInputError(f"invalid {option}: {error['msg']}") from None
