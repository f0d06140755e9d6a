"""The scenario report `make run` writes: metric history per model version, drift decisions,
retrains and promotions, in one self-contained HTML page (charts embedded as PNG)."""

from __future__ import annotations

import html
from pathlib import Path

from components.detect_drift.report import figure_png, plot_text, png_img, pyplot
from lifecycle.config import METRIC_HIGHER_IS_WORSE, LifecycleConfig
from lifecycle.history import decision_log, evaluation_log
from lifecycle.registry import ModelRegistry
from lifecycle.store import Store
from pipelines.summary import batch_outcomes

VERSION_COLUMNS = ["version", "parent", "created (UTC)", "training sets", "test metrics"]
DECISION_COLUMNS = ["time (UTC)", "kind", "version", "batch", "decision", "reason"]
_COLOURS = ["#4878a8", "#c0392b", "#27ae60", "#8e44ad", "#e67e22", "#16a085", "#7f8c8d"]


def metric_history_png(store: Store, config: LifecycleConfig, metric: str) -> bytes:
    """One metric over the batches: a line per model version (its test score first), a red
    cross where the drift check called for a retrain, a star where a version was promoted."""
    plt = pyplot()
    name = config.model.name
    records = [
        r
        for r in evaluation_log(store).records()
        if r["model_name"] == name and r["metric"] == metric
    ]
    decisions = [d for d in decision_log(store).records() if d["model_name"] == name]
    batches: list[str] = []
    for record in records:
        if record["batch"] not in batches:
            batches.append(record["batch"])
    position = {batch: i for i, batch in enumerate(batches)}
    versions = sorted(
        {r["version"] for r in records}, key=lambda v: tuple(int(p) for p in v.split("."))
    )
    figure, axes = plt.subplots(figsize=(8.0, 3.4), dpi=100)
    for i, version in enumerate(versions):
        points = [(position[r["batch"]], r["score"]) for r in records if r["version"] == version]
        xs, ys = zip(*points, strict=True)
        colour = _COLOURS[i % len(_COLOURS)]
        axes.plot(xs, ys, marker="o", color=colour, label=plot_text(f"model {version}"))
    for decision in decisions:
        scores = [
            r["score"]
            for r in records
            if r["batch"] == decision["batch"] and r["version"] == decision["version"]
        ]
        if not scores or decision["batch"] not in position:
            continue
        if decision["kind"] == "drift" and decision["decision"] == "retrain":
            axes.scatter(
                [position[decision["batch"]]],
                [scores[-1]],
                marker="x",
                s=90,
                color="#c0392b",
                zorder=4,
            )
        if decision["kind"] == "promotion" and decision["decision"] == "promoted":
            axes.scatter(
                [position[decision["batch"]]],
                [scores[-1]],
                marker="*",
                s=160,
                color="#f1c40f",
                edgecolors="black",
                zorder=5,
            )
    axes.scatter([], [], marker="x", color="#c0392b", label="drift: retrain")
    axes.scatter([], [], marker="*", color="#f1c40f", edgecolors="black", label="promoted")
    axes.set_xticks(range(len(batches)), [plot_text(batch) for batch in batches], fontsize=8)
    worse = "higher is worse" if METRIC_HIGHER_IS_WORSE.get(metric, True) else "lower is worse"
    axes.set_title(f"{plot_text(metric)} per batch and model version ({worse})")
    axes.legend(fontsize=7, loc="best")
    axes.grid(alpha=0.3)
    return figure_png(figure)


def _table(header: list[str], rows: list[list[str]]) -> str:
    head = "".join(f"<th>{html.escape(cell)}</th>" for cell in header)
    body = "".join("<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def _yes(value: bool | None) -> str:
    if value is None:
        return "-"
    return "<b class='yes'>TRUE</b>" if value else "FALSE"


def render_scenario_report(
    store: Store, config: LifecycleConfig, title: str = "Scenario report"
) -> str:
    """The scenario's HTML page (see :func:`write_scenario_report`)."""
    name = config.model.name
    registry = ModelRegistry(store, name)

    production = registry.alias()
    charts = "".join(
        png_img(metric_history_png(store, config, metric), f"{metric} history")
        for metric in config.drift.metrics
    )
    outcomes = batch_outcomes(store, name)
    runs = _table(
        ["batch", "model", "RMSE", "R²", "tests fired", "drift", "new version", "promoted"],
        [
            [
                html.escape(o.batch),
                html.escape(o.model_version),
                f"{o.rmse:.4f}",
                f"{o.r2:.4f}",
                html.escape(", ".join(k for k, v in o.flags.items() if v) or "none"),
                _yes(o.drift),
                html.escape(o.new_version or "-"),
                _yes(o.promoted),
            ]
            for o in outcomes
        ],
    )
    versions = []
    for version in registry.versions():
        model = registry.get(version)
        metrics = ", ".join(f"{k} {v:.4g}" for k, v in model.test_metrics.items())
        versions.append(
            [
                f"<b>{html.escape(version)}</b> (production)"
                if version == production
                else html.escape(version),
                html.escape(model.parent_version or "-"),
                html.escape(model.created_at[:19]),
                str(len(model.training_datasets)),
                html.escape(metrics),
            ]
        )
    decisions = [
        [
            html.escape(d["time_stamp"][:19]),
            html.escape(d["kind"]),
            html.escape(d["version"]),
            html.escape(d["batch"]),
            html.escape(d["decision"]),
            html.escape(str(d.get("reason", ""))),
        ]
        for d in decision_log(store).records()
        if d["model_name"] == name
    ]
    retrains = sum(1 for o in outcomes if o.drift)
    promotions = sum(1 for o in outcomes if o.promoted)
    return (
        "<!doctype html><html><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title><style>"
        "body{font-family:sans-serif;margin:24px;color:#222}"
        "table{border-collapse:collapse;margin:8px 0 20px}"
        "td,th{border:1px solid #ccc;padding:3px 8px;font-size:13px;text-align:left}"
        "th{background:#f3f5f8}.yes{color:#c0392b}img{margin:4px 8px 4px 0}"
        "</style></head><body>"
        f"<h1>{html.escape(title)}: model “{html.escape(name)}”</h1>"
        f"<p>{len(outcomes)} monitored batches, {retrains} drift decisions to retrain, "
        f"{promotions} promotions; production is now "
        f"<b>{html.escape(production or 'none')}</b>.</p>"
        f"<h2>Metric history per model version</h2>{charts}"
        f"<h2>Monitoring runs</h2>{runs}"
        f"<h2>Model versions</h2>{_table(VERSION_COLUMNS, versions)}"
        f"<h2>Decision log</h2>{_table(DECISION_COLUMNS, decisions)}"
        "</body></html>"
    )


def write_scenario_report(
    store: Store, config: LifecycleConfig, path: str | Path, title: str = "Scenario report"
) -> Path:
    """Write the scenario's report to ``path``; returns the path.

    Args:
        store: the store the scenario ran against.
        config: its config (the model name and the watched metrics).
        path: the HTML file to write.
        title: the page's title.
    """
    target = Path(path)
    target.write_text(render_scenario_report(store, config, title), encoding="utf-8")
    return target
