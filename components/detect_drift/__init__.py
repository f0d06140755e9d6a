"""The detect_drift stage."""
