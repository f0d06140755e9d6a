"""Running the inference server: granian (one worker, RSGI) in front of :class:`ServeApp`.

Why granian: ``make bench-serve`` measured it against MLServer 1.7.1 (and the issue's own
measurements put KServe's ``ModelServer`` below MLServer); see ``bench/results/serve.md``.

``lifecycle serve`` validates its settings, checks the store, and hands both to granian's
worker process through the environment (:data:`SETTINGS_ENV`, ``STORE``): the worker builds the
app with :func:`app_from_environment`. On SIGTERM or SIGINT granian stops accepting, finishes
the requests in flight, and the app flushes the prediction log before the process exits.
"""

from __future__ import annotations

import os

from components.serve.app import ServeApp
from components.serve.metrics import ServerMetrics
from components.serve.model_holder import ModelHolder
from components.serve.prediction_log import PredictionLog
from components.serve.protocol import InputSchema
from components.serve.settings import ServeSettings
from lifecycle.errors import InvalidInputError
from lifecycle.store import STORE_ENV, Store, open_store

SETTINGS_ENV = "LIFECYCLE_SERVE_SETTINGS"
APP_FACTORY = "components.serve.server:app_from_environment"
# Seconds granian waits for its worker to finish requests and flush the log on shutdown.
WORKER_STOP_SECONDS = 60


def build_app(settings: ServeSettings, store: Store) -> ServeApp:
    """The app for ``settings`` on ``store`` (not started: granian starts it in its worker)."""
    schema = InputSchema.from_config(settings.lifecycle.schema)
    model = settings.served_model
    log = PredictionLog(store, model, schema.names, settings.log) if settings.log.enabled else None
    return ServeApp(settings, ModelHolder(store, model, schema), log, ServerMetrics(model))


def app_from_environment() -> ServeApp:
    """granian's factory: the app from the settings and store ``lifecycle serve`` exported.

    Raises:
        InvalidInputError: the settings variable is missing or invalid.
    """
    text = os.environ.get(SETTINGS_ENV)
    if not text:
        raise InvalidInputError(
            f"${SETTINGS_ENV} is not set: start the server with lifecycle serve"
        )
    return build_app(ServeSettings.from_json(text), open_store(os.environ.get(STORE_ENV)))


def serve(settings: ServeSettings, store_uri: str) -> None:
    """Serve until SIGTERM or SIGINT (blocking)."""
    from granian import Granian
    from granian.constants import Interfaces

    os.environ[SETTINGS_ENV] = settings.to_json()
    os.environ[STORE_ENV] = store_uri
    Granian(
        APP_FACTORY,
        address=settings.host,
        port=settings.port,
        interface=Interfaces.RSGI,
        workers=1,
        factory=True,
        websockets=False,
        log_access=False,
        workers_kill_timeout=WORKER_STOP_SECONDS,
    ).serve()
