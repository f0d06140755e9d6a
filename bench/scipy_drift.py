"""A plain scipy drift check of two files, the contender of `lifecycle data-drift` in
`make bench-drift`: pandas reads both files, ``ks_2samp`` per numeric column,
``chi2_contingency`` per other column, drifted when p < 0.05. Prints the drifted columns as a
JSON list.

    python bench/scipy_drift.py REFERENCE CURRENT
"""

from __future__ import annotations

import json
import sys

import pandas as pd
from scipy.stats import chi2_contingency, ks_2samp


def read(path: str) -> pd.DataFrame:
    return pd.read_parquet(path) if path.endswith(".parquet") else pd.read_csv(path)


def main(reference_path: str, current_path: str) -> list[str]:
    reference, current = read(reference_path), read(current_path)
    drifted = []
    for name in reference.columns:
        if pd.api.types.is_numeric_dtype(reference[name]):
            p = ks_2samp(reference[name].dropna(), current[name].dropna()).pvalue
        else:
            counts = pd.concat(
                [reference[name].value_counts(), current[name].value_counts()], axis=1
            ).fillna(0)
            p = chi2_contingency(counts.to_numpy().T, correction=False)[1]
        if p < 0.05:
            drifted.append(name)
    return sorted(drifted)


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1], sys.argv[2])))
