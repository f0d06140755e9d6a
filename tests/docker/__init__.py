"""Container tests: the images of issue 4, checked on a real Docker engine."""
