"""The select_data stage."""
