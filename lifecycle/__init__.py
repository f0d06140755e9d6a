"""Core of the model lifecycle: config, store, registry and histories.

Stage logic lives in :mod:`components`; pipelines in :mod:`pipelines`.
"""

__version__ = "0.1.0"
