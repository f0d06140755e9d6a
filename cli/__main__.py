"""``python -m cli``: the ``lifecycle`` command without its console script."""

from cli.main import main

raise SystemExit(main())
