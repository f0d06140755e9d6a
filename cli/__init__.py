"""The ``lifecycle`` command: the floor above the stages (``components``) and the pipelines
(``pipelines``) it drives, which build on the core (``lifecycle``). Nothing below imports it."""

from cli.main import build_parser, main

__all__ = ["build_parser", "main"]
