"""Building the server's app: in granian's worker process, from what ``lifecycle serve`` set."""

from __future__ import annotations

import os
from multiprocessing.util import Finalize

from components.serve.app import ServeApp
from components.serve.metrics import ServerMetrics
from components.serve.model_holder import ModelHolder
from components.serve.prediction_log import PredictionLog
from components.serve.schema import InputSchema
from components.serve.server import SETTINGS_ENV
from components.serve.settings import ServeSettings
from lifecycle.errors import InvalidInputError
from lifecycle.store import STORE_ENV, Store, open_store


def build_app(settings: ServeSettings, store: Store) -> ServeApp:
    """The app for ``settings`` on ``store`` (not started: granian starts it in its worker)."""
    schema = InputSchema.from_config(settings.lifecycle.schema)
    model = settings.served_model
    log = PredictionLog(store, model, schema.names, settings.log) if settings.log.enabled else None
    return ServeApp(settings, ModelHolder(store, model, schema), log, ServerMetrics(model))


def app_from_environment() -> ServeApp:
    """granian's factory: the app from the settings and store ``lifecycle serve`` exported,
    started, and stopped (its prediction log flushed) when the worker process exits.

    Raises:
        InvalidInputError: the settings variable is missing or invalid.
    """
    text = os.environ.get(SETTINGS_ENV)
    if not text:
        raise InvalidInputError(
            f"${SETTINGS_ENV} is not set: start the server with lifecycle serve"
        )
    app = build_app(ServeSettings.from_json(text), open_store(os.environ.get(STORE_ENV)))
    app.start()
    # WSGI has no shutdown hook. granian's worker is a multiprocessing.Process whose target
    # returns once the server is stopped; multiprocessing then runs the finalizers registered
    # with an exit priority (whether the worker was forked or spawned, where atexit would run
    # only for spawned ones).
    Finalize(app, app.stop, exitpriority=10)
    return app
