"""The data-drift suite: pure, typed, column-at-a-time tests against a stored reference profile.

No ``kfp`` import: the detect-drift component, the CLI (``lifecycle data-drift``) and the
benchmark all call these functions.
"""

from components.detect_drift.suite.categorical import (
    align_counts,
    chi2_test,
    jensenshannon_test,
    psi_categorical,
)
from components.detect_drift.suite.columns import (
    ColumnSource,
    FrameColumns,
    ParquetColumns,
    ParquetFilesColumns,
    TableColumns,
    WithColumns,
    category_counts,
    float_values,
    infer_kind,
    numeric_values,
    open_columns,
)
from components.detect_drift.suite.correction import CORRECTIONS, Correction, correction_factor
from components.detect_drift.suite.numeric import (
    TestOutcome,
    ks_p_value,
    ks_statistic,
    ks_test,
    psi,
    psi_numeric,
    quantile_edges,
    sorted_finite,
    wasserstein_distance_sorted,
    wasserstein_test,
)
from components.detect_drift.suite.profile import (
    ReferenceProfile,
    build_profile,
    profile_bytes,
    read_profile,
    write_profile,
)
from components.detect_drift.suite.run import (
    ColumnResult,
    SuiteResult,
    SuiteSettings,
    apply_correction,
    run_suite,
)

__all__ = [
    "CORRECTIONS",
    "ColumnResult",
    "Correction",
    "ColumnSource",
    "FrameColumns",
    "ParquetColumns",
    "ParquetFilesColumns",
    "ReferenceProfile",
    "SuiteResult",
    "SuiteSettings",
    "TableColumns",
    "TestOutcome",
    "WithColumns",
    "align_counts",
    "apply_correction",
    "build_profile",
    "category_counts",
    "chi2_test",
    "correction_factor",
    "infer_kind",
    "jensenshannon_test",
    "ks_p_value",
    "ks_statistic",
    "ks_test",
    "float_values",
    "numeric_values",
    "open_columns",
    "profile_bytes",
    "psi",
    "psi_categorical",
    "psi_numeric",
    "quantile_edges",
    "read_profile",
    "run_suite",
    "sorted_finite",
    "wasserstein_distance_sorted",
    "wasserstein_test",
    "write_profile",
]
