"""Running the inference server: granian (one worker, RSGI) in front of :class:`ServeApp`.

Why granian: ``make bench-serve`` measured it against MLServer 1.7.1 (and the issue's own
measurements put KServe's ``ModelServer`` below MLServer); see ``bench/results/serve.md``.

``lifecycle serve`` validates its settings, checks the store, and hands both to granian's
worker process through the environment (:data:`SETTINGS_ENV`, ``STORE``): the worker builds the
app with :func:`components.serve.factory.app_from_environment`. This module imports nothing of
the app, so granian's main process stays small. On SIGTERM or SIGINT granian stops accepting,
finishes the requests in flight, and the app flushes the prediction log before the worker exits.
"""

from __future__ import annotations

import os

from components.serve.settings import ServeSettings
from lifecycle.store import STORE_ENV

SETTINGS_ENV = "LIFECYCLE_SERVE_SETTINGS"
APP_FACTORY = "components.serve.factory:app_from_environment"
# Seconds granian waits for its worker to finish requests and flush the log on shutdown.
WORKER_STOP_SECONDS = 60


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
