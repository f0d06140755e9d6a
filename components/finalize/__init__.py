"""The finalize stage: the exit handler that commits a run or rolls it back."""
