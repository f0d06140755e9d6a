"""The drift component's HTML report: flags, statistics and the metric history with thresholds."""

from __future__ import annotations

import base64
import html
import io

import numpy as np

from lifecycle.config import LifecycleConfig
from lifecycle.history import evaluation_log
from lifecycle.store import Store


def _png(figure) -> bytes:
    """The figure as PNG bytes; the figure is closed (pyplot keeps every open one alive)."""
    import matplotlib.pyplot as plt

    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    plt.close(figure)
    return buffer.getvalue()


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
        axes.axhline(
            mean + sigmas * std, color="#e67e22", linestyle=":", label=f"param: mean±{sigmas:g}σ"
        )
        axes.axhline(mean - sigmas * std, color="#e67e22", linestyle=":")
        axes.axhline(
            q3 + iqr_factor * (q3 - q1), color="#8e44ad", linestyle="-.", label="IQR fences"
        )
        axes.axhline(q1 - iqr_factor * (q3 - q1), color="#8e44ad", linestyle="-.")
    axes.set_xlabel("evaluation (oldest first)")
    axes.set_title(f"{metric} history")
    axes.legend(fontsize=7, loc="best")
    return _png(figure)


def distribution_png(column: str, distribution: dict[str, list]) -> bytes:
    """Reference versus current distribution of a drifted column, as shares.

    Numeric columns: histograms on shared bins (``edges``); categorical: bars per category.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    reference = np.asarray(distribution["reference"], dtype=float)
    current = np.asarray(distribution["current"], dtype=float)
    reference /= max(reference.sum(), 1.0)
    current /= max(current.sum(), 1.0)
    figure, axes = plt.subplots(figsize=(5.5, 3.0), dpi=100)
    if "edges" in distribution:
        edges = np.asarray(distribution["edges"], dtype=float)
        axes.stairs(
            reference, edges, fill=True, alpha=0.45, color="#4878a8", label="reference (training)"
        )
        axes.stairs(current, edges, fill=True, alpha=0.45, color="#c0392b", label="current batch")
        axes.set_xlabel(column)
    else:
        categories = [str(c) for c in distribution["categories"]]
        positions = np.arange(len(categories))
        axes.bar(
            positions - 0.2, reference, width=0.4, color="#4878a8", label="reference (training)"
        )
        axes.bar(positions + 0.2, current, width=0.4, color="#c0392b", label="current batch")
        axes.set_xticks(
            positions, categories, rotation=45 if len(categories) > 6 else 0, fontsize=7
        )
    axes.set_ylabel("share")
    axes.set_title(f"{column}: drifted")
    axes.legend(fontsize=7, loc="best")
    return _png(figure)


def _img(png: bytes, alt: str) -> str:
    data = base64.b64encode(png).decode()
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{data}">'


def _suite_table(decision) -> str:
    """Every statistic of the drift suite that is not a flag: value, p-value, threshold."""
    rows = []
    for name, values in decision.statistics.items():
        if name in decision.flags:
            continue
        cells = [html.escape(name)] + [
            f"{values[key]:.4g}" if key in values else ""
            for key in ("statistic", "p_value", "threshold")
        ]
        if name == "dataset_drift":
            cells = [name, f"share {values['share']:.3g}", "", f"&gt; {values['threshold']:g}"]
        rows.append("<tr>" + "".join(f"<td>{cell}</td>" for cell in cells) + "</tr>")
    if not rows:
        return ""
    return (
        "<h3>Drift suite statistics (logged, not flags)</h3>"
        "<table><tr><th>test</th><th>statistic</th><th>p-value</th><th>threshold</th></tr>"
        f"{''.join(rows)}</table>"
    )


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
            png = metric_history_png(
                scores, metric, config.drift.param_sigmas, config.drift.iqr_factor
            )
            charts.append(_img(png, f"{metric} history"))
    distributions = [
        _img(distribution_png(column, data), f"{column} distribution")
        for column, data in getattr(decision, "distributions", {}).items()
    ]
    if distributions:
        charts.append("<h3>Drifted columns: reference vs current</h3>" + "".join(distributions))
    charts.append(_suite_table(decision))
    verdict = "DRIFT: retrain" if decision.drift else "no drift"
    return (
        "<!doctype html><html><head><meta charset='utf-8'><title>Drift report</title>"
        "<style>body{font-family:sans-serif}td,th{border:1px solid #ccc;padding:2px 6px}</style>"
        "</head><body>"
        f"<h2>Model {html.escape(decision.model_version)} on {html.escape(decision.batch)}: "
        f"{verdict}</h2>"
        f"<p>{decision.previous_runs} previous run(s) in scope ({config.drift.history_scope}).</p>"
        "<table><tr><th>test</th><th>fired</th><th>statistic</th><th>p-value</th></tr>"
        f"{rows}</table>{''.join(charts)}</body></html>"
    )
