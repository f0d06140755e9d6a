"""The promote stage."""
