"""The drift component's HTML report: flags, statistics and the metric history with thresholds.

Also the PNG helpers every report of the project uses (:func:`figure_png`, :func:`png_img`).
"""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Sequence
from typing import Any

import numpy as np

from components.detect_drift.logic import history_bounds, split_history
from lifecycle.config import METRIC_HIGHER_IS_WORSE, LifecycleConfig
from lifecycle.history import decision_log, evaluation_log
from lifecycle.store import Store

# Each history test's line: (colour, line style).
THRESHOLD_STYLES = {
    "hard": ("#7f8c8d", "--"),
    "param": ("#e67e22", ":"),
    "iqr": ("#8e44ad", "-."),
    "worst": ("#16a085", (0, (5, 2, 1, 2))),
    "fixed": ("#c0392b", "-"),
}
# Thresholds further from the data than this many data ranges are listed, not drawn, so
# that the scores are not squeezed into a flat line.
OFF_CHART_RANGES = 2.0
# Up to this many points, the x axis names each evaluation's batch.
MAX_NAMED_POINTS = 15
_REFERENCE, _CURRENT, _LINE = "#4878a8", "#c0392b", "#4878a8"


def plot_text(text: object) -> str:
    """``text`` as matplotlib draws it literally: a ``$`` would otherwise start mathtext, so a
    column called ``$x_{$`` stopped the report with a parse error. Every user-given text in
    a chart (column, category, batch and version names) goes through here."""
    return str(text).replace("$", r"\$")


def pyplot() -> Any:
    """matplotlib's pyplot on the Agg backend (no display needed)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def figure_png(figure: Any) -> bytes:
    """The figure as PNG bytes, cropped to what is drawn (so neither title nor a legend
    outside the axes is cut); the figure is closed (pyplot keeps every open one alive)."""
    plt = pyplot()
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", bbox_inches="tight", pad_inches=0.1)
    plt.close(figure)
    return buffer.getvalue()


def png_img(png: bytes, alt: str) -> str:
    """An ``<img>`` element with the PNG embedded (a self-contained page for the Kubeflow UI)."""
    data = base64.b64encode(png).decode()
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{data}">'


def threshold_label(test: str, metric: str, config: LifecycleConfig) -> str:
    """What a history test's line is, e.g. ``param: mean + 2σ``."""
    sign = "+" if METRIC_HIGHER_IS_WORSE[metric] else "−"
    return {
        "hard": "hard: mean",
        "param": f"param: mean {sign} {config.drift.param_sigmas:g}σ",
        "iqr": f"iqr: {'Q3 +' if sign == '+' else 'Q1 −'} {config.drift.iqr_factor:g}·IQR",
        "worst": "worst: worst so far",
        "fixed": "fixed threshold",
    }[test]


def metric_history_png(
    scores: Sequence[float],
    metric: str,
    thresholds: Sequence[tuple[str, str, float]] = (),
    drift_points: Sequence[int] = (),
    labels: Sequence[str] | None = None,
) -> bytes:
    """A metric's history, oldest first, the last point being the run tested.

    Args:
        scores: the metric's values.
        metric: its name.
        thresholds: (test, label, value) of each enabled history test's bound, drawn as a
            line (listed in the legend instead when far off the data).
        drift_points: indices of the runs whose drift check called for a retrain.
        labels: a name per point (e.g. its batch), used when there are few points.
    """
    plt = pyplot()
    higher = METRIC_HIGHER_IS_WORSE.get(metric, True)
    x = np.arange(len(scores))
    low, high = float(min(scores)), float(max(scores))
    span = (high - low) or (abs(high) * 0.1) or 1.0
    window = (low - OFF_CHART_RANGES * span, high + OFF_CHART_RANGES * span)
    figure, axes = plt.subplots(figsize=(7.2, 3.2), dpi=100)
    shown = plot_text(metric)
    axes.plot(x, scores, marker="o", markersize=4, color=_LINE, linewidth=1.5, label=shown)
    drawn = [low, high]
    for test, label, value in thresholds:
        colour, style = THRESHOLD_STYLES[test]
        if window[0] <= value <= window[1]:
            axes.axhline(value, color=colour, linestyle=style, linewidth=1.3)
            axes.plot(
                [], [], color=colour, linestyle=style, label=plot_text(f"{label} = {value:.4g}")
            )
            drawn.append(value)
        else:
            side = "above" if value > window[1] else "below"
            axes.plot(
                [],
                [],
                color=colour,
                linestyle=style,
                label=plot_text(f"{label} = {value:.4g} (off the chart, {side})"),
            )
    if drift_points:
        points = sorted(set(drift_points))
        axes.scatter(
            points,
            [scores[i] for i in points],
            marker="X",
            s=80,
            color=_CURRENT,
            zorder=4,
            label="drift: retrain",
        )
    axes.scatter(
        [x[-1]],
        [scores[-1]],
        s=150,
        facecolors="none",
        edgecolors="black",
        linewidths=1.5,
        zorder=5,
        label="this run",
    )
    margin = 0.08 * ((max(drawn) - min(drawn)) or span)
    axes.set_ylim(min(drawn) - margin, max(drawn) + margin)
    axes.set_xlim(-0.5, len(scores) - 0.5)
    if labels is not None and len(scores) <= MAX_NAMED_POINTS:
        names = [plot_text(label) for label in labels]
        axes.set_xticks(x, names, rotation=30, ha="right", fontsize=7)
        axes.set_xlabel("evaluation (oldest first)")
    else:
        axes.xaxis.set_major_locator(plt.MaxNLocator(integer=True))
        axes.set_xlabel("evaluation number (oldest first)")
    axes.set_ylabel(shown)
    axes.grid(alpha=0.3)
    axes.set_title(f"{shown} history ({'higher' if higher else 'lower'} is worse)")
    axes.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    return figure_png(figure)


def distribution_png(column: str, distribution: dict[str, list]) -> bytes:
    """Reference versus current distribution of a drifted column, as shares.

    Numeric columns: histograms on shared bins (``edges``); categorical: bars per category.
    """
    plt = pyplot()
    reference = np.asarray(distribution["reference"], dtype=float)
    current = np.asarray(distribution["current"], dtype=float)
    reference /= max(reference.sum(), 1.0)
    current /= max(current.sum(), 1.0)
    figure, axes = plt.subplots(figsize=(7.2, 3.2), dpi=100)
    if "edges" in distribution:
        edges = np.asarray(distribution["edges"], dtype=float)
        axes.stairs(
            reference, edges, fill=True, alpha=0.45, color=_REFERENCE, label="reference (training)"
        )
        axes.stairs(current, edges, fill=True, alpha=0.45, color=_CURRENT, label="current batch")
        axes.set_xlabel(plot_text(column))
    else:
        categories = [plot_text(c) for c in distribution["categories"]]
        positions = np.arange(len(categories))
        axes.bar(
            positions - 0.2, reference, width=0.4, color=_REFERENCE, label="reference (training)"
        )
        axes.bar(positions + 0.2, current, width=0.4, color=_CURRENT, label="current batch")
        many = len(categories) > 6
        axes.set_xticks(
            positions, categories, rotation=45 if many else 0, ha="right" if many else "center"
        )
        axes.tick_params(axis="x", labelsize=7)
    axes.set_ylabel("share of rows")
    axes.grid(alpha=0.3, axis="y")
    axes.set_title(f"{plot_text(column)}: reference vs current (drifted)")
    axes.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    return figure_png(figure)


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


CORRECTION_NAMES = {
    "none": "none",
    "bh": "Benjamini–Hochberg",
    "bonferroni": "Bonferroni",
}


def correction_note(statistics: dict[str, dict[str, float]], config: LifecycleConfig) -> str:
    """A paragraph naming the data tests' multiple-testing correction and the p-value
    threshold the KS and chi-squared tests were decided at (empty without such tests)."""
    drift = config.drift
    thresholds = [
        values["threshold"]
        for values in statistics.values()
        if "p_value" in values and "threshold" in values
    ]
    if not thresholds:
        return ""
    name = CORRECTION_NAMES.get(drift.correction, drift.correction)
    corrected = min(thresholds)
    if drift.correction == "none":
        text = f"each KS and chi-squared test fires at p &lt; {corrected:.4g}"
    else:
        text = (
            f"the KS and chi-squared tests fire at p &lt; {corrected:.4g} "
            f"(p &lt; {drift.p_value:g} before the correction)"
        )
    floors = [
        f"{label} ≥ {value:g}"
        for label, value in (("KS D", drift.min_ks_statistic), ("Cramér's V", drift.min_cramers_v))
        if value > 0
    ]
    floor = f"; effect-size floor: {', '.join(floors)}" if floors else ""
    return f"<p>Multiple-testing correction of the data tests: {name}; {text}{floor}.</p>"


def _retrain_evaluations(
    store: Store, config: LifecycleConfig, records: list[dict], own_run: str | None = None
) -> set:
    """(time stamp, version) of every evaluation whose drift check called for a retrain."""
    marked = set()
    for decision in decision_log(store).records(own_run):
        if (
            decision.get("kind") != "drift"
            or decision.get("decision") != "retrain"
            or decision.get("model_name") != config.model.name
        ):
            continue
        stamp = decision.get("evaluation_time")
        if not stamp:  # decisions logged before evaluation_time was: the batch's last before
            stamps = [
                r["time_stamp"]
                for r in records
                if r["version"] == decision["version"]
                and r["batch"] == decision["batch"]
                and r["time_stamp"] <= decision["time_stamp"]
            ]
            stamp = max(stamps, default=None)
        marked.add((stamp, decision["version"]))
    return marked


def render_decision_html(
    store: Store, config: LifecycleConfig, decision, own_run: str | None = None
) -> str:
    """A self-contained HTML page (images embedded) for the Kubeflow UI.

    Each watched metric's chart holds the runs the history tests looked at (this version's,
    or all, by ``history_scope``) and this run (``own_run``, not committed yet), each enabled
    test's bound as the tests computed it, and every past run whose drift check called for a
    retrain.
    """
    drift = config.drift
    records = evaluation_log(store).records(own_run)
    this_run = decision.evaluation_time or max(
        (r["time_stamp"] for r in records if r["version"] == decision.model_version), default=""
    )
    previous, _, _ = split_history(records, decision.model_version, this_run, drift)
    retrains = _retrain_evaluations(store, config, records, own_run)
    rows = "".join(
        f"<tr><td>{html.escape(name)}</td><td>{'TRUE' if fired else 'FALSE'}</td>"
        f"<td>{decision.statistics.get(name, {}).get('statistic', '')}</td>"
        f"<td>{decision.statistics.get(name, {}).get('p_value', '')}</td>"
        f"<td>{decision.statistics.get(name, {}).get('threshold', '')}</td></tr>"
        for name, fired in decision.flags.items()
    )
    charts = []
    for metric in drift.metrics:
        points = sorted(
            (
                r
                for r in records
                if r["metric"] == metric
                and (
                    (r["time_stamp"] == this_run and r["version"] == decision.model_version)
                    or (
                        r["time_stamp"] < this_run
                        and (drift.history_scope == "all" or r["version"] == decision.model_version)
                    )
                )
            ),
            key=lambda r: r["time_stamp"],
        )
        if not points:
            continue
        bounds = history_bounds(previous.get(metric, []), metric, drift)
        png = metric_history_png(
            [float(r["score"]) for r in points],
            metric,
            [(test, threshold_label(test, metric, config), b) for test, b in bounds.items()],
            [i for i, r in enumerate(points) if (r["time_stamp"], r["version"]) in retrains],
            [str(r["batch"]) for r in points],
        )
        charts.append(png_img(png, f"{metric} history"))
    distributions = [
        png_img(distribution_png(column, data), f"{column} distribution")
        for column, data in decision.distributions.items()
    ]
    if distributions:
        charts.append("<h3>Drifted columns: reference vs current</h3>" + "".join(distributions))
    charts.append(_suite_table(decision))
    verdict = "DRIFT: retrain" if decision.drift else "no drift"
    return (
        "<!doctype html><html><head><meta charset='utf-8'><title>Drift report</title>"
        "<style>body{font-family:sans-serif}td,th{border:1px solid #ccc;padding:2px 6px}"
        "img{display:block;margin:6px 0}</style>"
        "</head><body>"
        f"<h2>Model {html.escape(decision.model_version)} on {html.escape(decision.batch)}: "
        f"{verdict}</h2>"
        f"<p>{decision.previous_runs} previous run(s) in scope ({drift.history_scope}).</p>"
        f"{correction_note(decision.statistics, config)}"
        "<table><tr><th>test</th><th>fired</th><th>statistic</th><th>p-value</th>"
        "<th>threshold</th></tr>"
        f"{rows}</table>{''.join(charts)}</body></html>"
    )
