"""One folder per lifecycle stage: ``logic.py`` (pure, typed, no kfp), ``component.py``
(the thin KFP adapter), ``component.yaml`` (its compiled spec) and a README."""
