"""The serve stage: the inference server of the production model, its prediction log and
feedback, and the KServe InferenceService that runs it on a cluster."""
