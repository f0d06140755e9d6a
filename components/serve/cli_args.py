"""The options of ``lifecycle serve`` (each maps to a field of :class:`ServeSettings`)."""

from __future__ import annotations

import argparse

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


def add_serve_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the server's options; their defaults are the settings' (None means default)."""
    parser.add_argument("--host", help=f"address to listen on (default {DEFAULT_HOST})")
    parser.add_argument("--port", type=int, help=f"port (default {DEFAULT_PORT})")
    parser.add_argument("--model", help="model name in the URLs (default: the config's)")
    parser.add_argument(
        "--reload-seconds",
        type=float,
        help="how often the production alias is read; a promotion is served within this "
        f"(default {RELOAD_SECONDS:g})",
    )
    parser.add_argument(
        "--max-rows", type=int, help=f"rows per request at most (default {MAX_ROWS})"
    )
    parser.add_argument(
        "--max-body-bytes",
        type=int,
        help=f"request body size at most (default {MAX_BODY_BYTES})",
    )
    parser.add_argument("--no-log", action="store_true", help="do not log predictions")
    parser.add_argument(
        "--log-flush-rows",
        type=int,
        help=f"flush the prediction log at this many rows (default {LOG_FLUSH_ROWS})",
    )
    parser.add_argument(
        "--log-flush-seconds",
        type=float,
        help=f"flush the prediction log at least this often (default {LOG_FLUSH_SECONDS:g})",
    )
    parser.add_argument(
        "--log-max-rows",
        type=int,
        help="rows buffered at most while the store is out; beyond, dropped and counted "
        f"(default {LOG_MAX_BUFFERED_ROWS})",
    )
    parser.add_argument(
        "--spool-dir",
        help="folder for rows the store still refuses at shutdown (sent at the next start)",
    )
