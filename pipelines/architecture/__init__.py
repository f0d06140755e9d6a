"""The architecture diagram and the docs' tables, generated from the compiled pipelines.

Reads ``pipelines/*_pipeline.yaml`` and ``components/*/component.yaml`` (the compiled specs,
not a hand-written list) and ``lifecycle/keys.py`` (the store's layout), and writes
``docs/architecture.drawio`` (diagrams.net), ``docs/architecture.svg`` (for the README) and
the tables of ``docs/README.md``. One module per job:

- :mod:`.model`: blocks, arrows, stages; :mod:`.styles`: their colours and lines;
- :mod:`.specs`: reading the compiled specs; :mod:`.store`: the store's areas and who
  reads or writes them; :mod:`.walk`: the model from the pipelines' IR;
- :mod:`.links`: where a block's link points; :mod:`.layout`: Graphviz's layout and SVG;
- :mod:`.drawio`: the diagrams.net file; :mod:`.tables`: the README's tables;
- :mod:`.generate`: writing ``docs/`` and the staleness check; ``__main__``: the CLI.

Needs Graphviz's ``dot``, ``gvpack`` and ``neato`` (Debian's ``graphviz``) and the
``graphviz`` binding (dev extra).
"""
