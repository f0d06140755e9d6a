"""The drift component's HTML report: flags, statistics and the metric history with thresholds."""

from __future__ import annotations

import base64
import html
import io

import numpy as np

from lifecycle.config import LifecycleConfig
from lifecycle.history import evaluation_log
from lifecycle.store import Store


def metric_history_png(scores: list[float], metric: str, sigmas: float, iqr_factor: float) -> bytes:
    """A chart of a metric's history, the last run highlighted, with each test's threshold."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    previous, last = scores[:-1], scores[-1]
    figure, axes = plt.subplots(figsize=(5.5, 3.0), dpi=100)
    axes.plot(range(len(scores)), scores, marker="o", color="#4878a8", label=metric)
    axes.scatter([len(scores) - 1], [last], color="#c0392b", zorder=3, label="last run")
    if previous:
        mean, std = float(np.mean(previous)), float(np.std(previous))
        q1, q3 = np.quantile(previous, [0.25, 0.75])
        axes.axhline(mean, color="gray", linestyle="--", linewidth=1, label="hard: mean")
        axes.axhline(mean + sigmas * std, color="#e67e22", linestyle=":", label=f"param: mean±{sigmas:g}σ")
        axes.axhline(mean - sigmas * std, color="#e67e22", linestyle=":")
        axes.axhline(q3 + iqr_factor * (q3 - q1), color="#8e44ad", linestyle="-.", label="IQR fences")
        axes.axhline(q1 - iqr_factor * (q3 - q1), color="#8e44ad", linestyle="-.")
    axes.set_xlabel("evaluation (oldest first)")
    axes.set_title(f"{metric} history")
    axes.legend(fontsize=7, loc="best")
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    plt.close(figure)
    return buffer.getvalue()


def render_decision_html(store: Store, config: LifecycleConfig, decision) -> str:
    """A self-contained HTML page (images embedded) for the Kubeflow UI."""
    records = [
        record
        for record in evaluation_log(store).records()
        if config.drift.history_scope == "all" or record["version"] == decision.model_version
    ]
    rows = "".join(
        f"<tr><td>{html.escape(name)}</td><td>{'TRUE' if fired else 'FALSE'}</td>"
        f"<td>{decision.statistics.get(name, {}).get('statistic', '')}</td>"
        f"<td>{decision.statistics.get(name, {}).get('p_value', '')}</td></tr>"
        for name, fired in decision.flags.items()
    )
    charts = []
    for metric in config.drift.metrics:
        scores = [float(r["score"]) for r in records if r["metric"] == metric]
        if scores:
            png = metric_history_png(scores, metric, config.drift.param_sigmas, config.drift.iqr_factor)
            charts.append(f'<img alt="{metric} history" src="data:image/png;base64,{base64.b64encode(png).decode()}">')
    verdict = "DRIFT: retrain" if decision.drift else "no drift"
    return (
        "<!doctype html><html><head><meta charset='utf-8'><title>Drift report</title>"
        "<style>body{font-family:sans-serif}td,th{border:1px solid #ccc;padding:2px 6px}</style></head><body>"
        f"<h2>Model {html.escape(decision.model_version)} on {html.escape(decision.batch)}: {verdict}</h2>"
        f"<p>{decision.previous_runs} previous run(s) in scope ({config.drift.history_scope}).</p>"
        "<table><tr><th>test</th><th>fired</th><th>statistic</th><th>p-value</th></tr>"
        f"{rows}</table>{''.join(charts)}</body></html>"
    )
