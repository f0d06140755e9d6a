"""User-given text (column names, categories, batch ids) reaches charts and HTML literally:
matplotlib reads ``$…$`` as mathtext (``$x_{$`` stopped the drift report with a parse error
after its decision was logged), and HTML reads ``<`` and ``&``."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from components.detect_drift.logic import detect_drift
from components.detect_drift.report import plot_text, pyplot, render_decision_html
from components.evaluate.logic import evaluate
from components.finalize.logic import promotion_contribution, standalone_run
from components.ingest.logic import ingest
from components.promote.logic import promote
from components.train.logic import train
from lifecycle.config import ColumnSpec, LifecycleConfig, SchemaConfig
from lifecycle.store import LocalStore
from pipelines.report import write_scenario_report
from tests.helpers import committed

FEATURE, CATEGORY, TARGET = "$x_{$", "<b>kind&", "y$"
CONFIG = LifecycleConfig(
    schema=SchemaConfig(
        features=(ColumnSpec(name=FEATURE), ColumnSpec(name=CATEGORY, kind="categorical")),
        target=ColumnSpec(name=TARGET),
    )
)


def _frame(rows: int, shift: float, categories: list[str], seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.uniform(0.0, 10.0, rows) + shift
    return pd.DataFrame(
        {
            FEATURE: x,
            CATEGORY: rng.choice(categories, rows),
            TARGET: 2.0 * x + rng.normal(0.0, 0.5, rows),
        }
    )


def test_plot_text_keeps_a_dollar_literal():
    plt = pyplot()
    figure, axes = plt.subplots()
    axes.set_title(plot_text("$x_{$ and $\\alpha$"))
    figure.canvas.draw()  # raises on mathtext it cannot parse
    assert axes.get_title() == r"\$x_{\$ and \$\alpha\$"
    plt.close(figure)


def test_drift_and_scenario_reports_take_any_column_and_category_name(tmp_path):
    store = LocalStore(tmp_path / "store")
    files = {
        "data_init": _frame(60, 0.0, ["$a^{$", "b"], 1),
        "data_test": _frame(30, 0.0, ["$a^{$", "b"], 2),
        "batch_9": _frame(30, 30.0, ["$c_{$", "<i>"], 3),  # drifts: x and the categories
    }
    refs = {}
    for name, frame in files.items():
        path = tmp_path / f"{name}.csv"
        frame.to_csv(path, index=False)
    with standalone_run(store, CONFIG, "setup") as tx:
        for name in files:
            path = str(tmp_path / f"{name}.csv")
            refs[name] = ingest(store, path, name, CONFIG.schema, tx.task(f"ingest-{name}"))
        model, _ = train(
            store, CONFIG, [refs["data_init"].key], refs["data_test"].key, None, tx.task("train")
        )
        tx.contribute({"registered": [model.version]})
        test_key = refs["data_test"].key
        evaluate(store, CONFIG, model.version, test_key, "test", "test", tx.task("evaluate"))
        decided = promote(store, CONFIG, model.version, "", test_key, "test", tx.task("promote"))
        tx.contribute(promotion_contribution(decided))
    batch_key = refs["batch_9"].key

    def check(tx):
        evaluation = evaluate(store, CONFIG, "production", batch_key, "batch_9", "monitor", tx.run)
        return detect_drift(
            store, CONFIG, model.version, batch_key, "batch_9", evaluation.time_stamp, tx.run
        )

    decision = committed(store, check, CONFIG)
    assert decision.drift and {FEATURE, CATEGORY} <= set(decision.distributions)

    page = render_decision_html(store, CONFIG, decision)
    assert page.count("<img") >= 4
    assert "&lt;b&gt;kind&amp;" in page and "<b>kind&" not in page

    report = write_scenario_report(store, CONFIG, tmp_path / "report.html").read_text()
    assert "<img" in report and "batch_9" in report


@pytest.mark.parametrize("name", ["$x_{$", "$\\frac$", "a$b", "$$"])
def test_every_chart_helper_draws_a_mathtext_name(name):
    from components.detect_drift.report import distribution_png, metric_history_png

    assert distribution_png(name, {"edges": [0, 1, 2], "reference": [1, 2], "current": [2, 1]})
    categories = {"categories": [name, "b"], "reference": [1, 2], "current": [2, 1]}
    assert distribution_png(name, categories)
    assert metric_history_png([1.0, 2.0], "RMSE", [("hard", name, 1.5)], [1], [name, "b"])
