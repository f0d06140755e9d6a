"""The options of ``lifecycle serve`` (each maps to a field of :class:`ServeSettings`)."""

from __future__ import annotations

import argparse

from components.serve.settings import DEFAULT_HOST, DEFAULT_PORT, Limits, LogSettings


def add_serve_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the server's options; their defaults are the settings' (None means default)."""
    limits, log = Limits(), LogSettings()
    parser.add_argument("--host", help=f"address to listen on (default {DEFAULT_HOST})")
    parser.add_argument("--port", type=int, help=f"port (default {DEFAULT_PORT})")
    parser.add_argument("--model", help="model name in the URLs (default: the config's)")
    parser.add_argument(
        "--reload-seconds",
        type=float,
        help="how often the production alias is read; a promotion is served within this "
        "(default 5)",
    )
    parser.add_argument(
        "--max-rows", type=int, help=f"rows per request at most (default {limits.max_rows})"
    )
    parser.add_argument(
        "--max-body-bytes",
        type=int,
        help=f"request body size at most (default {limits.max_body_bytes})",
    )
    parser.add_argument("--no-log", action="store_true", help="do not log predictions")
    parser.add_argument(
        "--log-flush-rows",
        type=int,
        help=f"flush the prediction log at this many rows (default {log.flush_rows})",
    )
    parser.add_argument(
        "--log-flush-seconds",
        type=float,
        help=f"flush the prediction log at least this often (default {log.flush_seconds:g})",
    )
    parser.add_argument(
        "--log-max-rows",
        type=int,
        help="rows buffered at most while the store is out; beyond, dropped and counted "
        f"(default {log.max_buffered_rows})",
    )
    parser.add_argument(
        "--spool-dir",
        help="folder for rows the store still refuses at shutdown (sent at the next start)",
    )
