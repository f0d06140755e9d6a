"""Running the inference server: granian (one worker, WSGI on one thread) serving :class:`ServeApp`.

Why granian: ``make bench-serve`` measured it against MLServer 1.7.1 (and the issue's own
measurements put KServe's ``ModelServer`` below MLServer); see ``bench/results/serve.md``.
Why WSGI on one blocking thread: answering is synchronous and holds the GIL throughout, so
granian's RSGI (an asyncio loop fed from its Rust threads) only added a hand-over per request,
and more Python threads only contend for the GIL; measured side by side at 1 row, WSGI on one
thread gave 1.4-1.7x the requests/s of RSGI and half its p99 at concurrency 1, 8 and 64.

``lifecycle serve`` validates its settings, checks the store, and hands both to granian's
worker process through the environment (:data:`SETTINGS_ENV`, ``STORE``): the worker builds the
app with :func:`components.serve.factory.app_from_environment`. This module imports nothing of
the app, so granian's main process stays small. On SIGTERM or SIGINT granian stops accepting,
finishes the requests in flight, and the app flushes the prediction log as the worker exits.
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
        interface=Interfaces.WSGI,
        workers=1,
        blocking_threads=1,
        factory=True,
        websockets=False,
        log_access=False,
        workers_kill_timeout=WORKER_STOP_SECONDS,
    ).serve()
