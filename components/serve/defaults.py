"""The serving settings' defaults, apart from their validation so that the CLI can show them
without importing pydantic (every ``lifecycle`` command builds the serve options)."""

# What KServe's probes and clients expect of a custom predictor container.
DEFAULT_PORT = 8080
DEFAULT_HOST = "127.0.0.1"
RELOAD_SECONDS = 5.0
MAX_BODY_BYTES = 4 * 1024 * 1024
MAX_ROWS = 10_000
LOG_FLUSH_ROWS = 100_000
LOG_FLUSH_SECONDS = 2.0
LOG_MAX_BUFFERED_ROWS = 2_000_000
