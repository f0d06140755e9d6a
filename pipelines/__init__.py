"""The lifecycle's pipelines (training, monitoring), their compiler and runners."""
