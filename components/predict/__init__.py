"""The predict stage: batch scoring with a registered model."""
