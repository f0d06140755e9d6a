"""Pipelines of one's own that reuse the lifecycle's components (see each module)."""
