"""The results of docs/README.md, drawn and written from the store of a real scenario run.

    .venv/bin/lifecycle scenario course --reset --store /tmp/docs-store
    .venv/bin/python docs/results.py --store /tmp/docs-store --out docs/images

Writes into ``--out``:

- ``results.json``: the run's numbers (each batch's production version, scores, the bound of
  each history test, the tests that fired, the retrained version and whether it was promoted);
- ``data_and_models.png``: the data by batch with every model version's fitted line;
- ``monitoring.png``: production's score per batch with each enabled history test's bound
  (computed by the drift component's own functions), what fired and what was retrained;
- ``report.png``: the scenario report of ``make run`` (its charts and tables) as a picture;

and the results section of ``docs/README.md`` (between its markers) from ``results.json``, so
every number the text quotes is the run's. ``--readme-only`` rewrites that section from the
committed ``results.json`` without a store.
"""

from __future__ import annotations

import argparse
import io
import json
import textwrap
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from components.detect_drift.logic import history_bounds, split_history
from components.detect_drift.report import THRESHOLD_STYLES, plot_text, pyplot
from lifecycle.config import METRIC_HIGHER_IS_WORSE, LifecycleConfig
from lifecycle.datasets import read_dataset
from lifecycle.history import decision_log, evaluation_log
from lifecycle.registry import ModelRegistry
from lifecycle.store import Store, open_store
from pipelines.report import DECISION_COLUMNS, VERSION_COLUMNS
from pipelines.report import metric_history_png as report_history_png
from pipelines.summary import batch_outcomes

DOCS = Path(__file__).resolve().parent
README = DOCS / "README.md"
FACTS_FILE = "results.json"
RESULTS_BEGIN = "<!-- BEGIN GENERATED: results (docs/results.py, from images/results.json) -->"
RESULTS_END = "<!-- END GENERATED: results -->"
# Fixed metadata so the PNGs are byte-stable for the same store.
PNG_METADATA = {"Software": None}
DIGITS = 6  # the numbers kept in results.json
_PRODUCTION, _CHALLENGER, _FIRED, _QUIET = "#222222", "#27ae60", "#c0392b", "#d0d0d0"


def _round(value: float) -> float:
    return round(float(value), DIGITS)


def _flag_test(flag: str) -> tuple[str, str]:
    """``hard_test_RMSE`` → (``hard``, ``RMSE``); ``ks_test_x`` → (``ks``, ``x``)."""
    test, _, subject = flag.partition("_test_")
    return test, subject


def run_facts(store: Store, config: LifecycleConfig) -> dict[str, Any]:
    """The numbers of a finished scenario run, read back from its store.

    Each batch's bounds are those its drift check compared with: the previous scores in scope
    (:func:`~components.detect_drift.logic.split_history`) through the enabled tests'
    bounds (:func:`~components.detect_drift.logic.history_bounds`).
    """
    name = config.model.name
    records = [r for r in evaluation_log(store).records() if r["model_name"] == name]
    drift = config.drift

    def scores(batch: str, version: str, role: str) -> dict[str, float]:
        return {
            r["metric"]: _round(r["score"])
            for r in records
            if (r["batch"], r["version"], r["role"]) == (batch, version, role)
            and r["metric"] in drift.metrics
        }

    test = next(r for r in records if r["role"] == "test")
    # The evaluation each drift check tested (its time stamp identifies it in the history).
    tested = {
        (d["batch"], d["version"]): d.get("evaluation_time")
        for d in decision_log(store).records()
        if d["model_name"] == name and d["kind"] == "drift"
    }
    batches = []
    for outcome in batch_outcomes(store, name):
        stamp = tested.get((outcome.batch, outcome.model_version)) or max(
            r["time_stamp"]
            for r in records
            if (r["batch"], r["version"], r["role"])
            == (outcome.batch, outcome.model_version, "monitor")
        )
        previous, _, _ = split_history(records, outcome.model_version, stamp, drift)
        batches.append(
            {
                "batch": outcome.batch,
                "version": outcome.model_version,
                "scores": scores(outcome.batch, outcome.model_version, "monitor"),
                "previous": {m: [_round(v) for v in values] for m, values in previous.items()},
                "bounds": {
                    metric: {
                        test: _round(bound)
                        for test, bound in history_bounds(values, metric, drift).items()
                    }
                    for metric, values in previous.items()
                },
                "fired": sorted(flag for flag, fired in outcome.flags.items() if fired),
                "drift": outcome.drift,
                "new_version": outcome.new_version,
                "challenger_scores": scores(outcome.batch, outcome.new_version or "", "challenger"),
                "promoted": outcome.promoted,
            }
        )
    return {
        "model": name,
        "metrics": list(drift.metrics),
        "history_tests": list(drift.history_tests),
        "data_tests": list(drift.data_tests),
        "param_sigmas": drift.param_sigmas,
        "iqr_factor": drift.iqr_factor,
        "fixed_thresholds": dict(drift.fixed_thresholds),
        "test": {
            "version": test["version"],
            "scores": scores(test["batch"], test["version"], "test"),
        },
        "batches": batches,
        "production": ModelRegistry(store, name).alias(),
    }


def _names(items: Sequence[str]) -> str:
    items = list(items)
    return ", ".join(items[:-1]) + f" and {items[-1]}" if len(items) > 1 else "".join(items)


def _fired(flags: Sequence[str], tests: Sequence[str]) -> str:
    """``hard, param on RMSE, r2``: the tests among ``tests`` that fired, by what they test."""
    on: dict[str, list[str]] = {}
    for flag in flags:
        test, subject = _flag_test(flag)
        if test in tests:
            on.setdefault(subject, []).append(test)
    by_tests: dict[tuple[str, ...], list[str]] = {}
    for subject, fired in on.items():
        by_tests.setdefault(tuple(sorted(fired, key=list(tests).index)), []).append(subject)
    return "; ".join(f"{', '.join(t)} on {', '.join(s)}" for t, s in by_tests.items()) or "—"


BOUND_TEXT = {
    "hard": "hard: the mean",
    "param": "param: mean ± {sigmas:g}σ on the worse side",
    "iqr": "iqr: Q3 + {factor:g}·IQR for RMSE, Q1 − {factor:g}·IQR for r²",
    "worst": "worst: the worst previous score",
    "fixed": "fixed: the fixed threshold",
}


def results_markdown(facts: dict[str, Any]) -> str:
    """The results section's text and table, every number taken from ``facts``."""
    batches, history = facts["batches"], facts["history_tests"]
    data_tests = [t for t in facts["data_tests"] if t not in history]

    def history_fired(b: dict[str, Any]) -> bool:
        return any(_flag_test(flag)[0] in history for flag in b["fired"])

    fired_history = [b["batch"] for b in batches if history_fired(b)]
    data_only = [b for b in batches if b["drift"] and not history_fired(b)]
    data_only_flags = sorted({f for b in data_only for f in b["fired"]})
    retrained = [b for b in batches if b["drift"]]
    promoted = [b for b in retrained if b["promoted"]]
    worst = max(batches, key=lambda b: b["scores"]["RMSE"])
    coincide = all(
        len(set(bounds.values())) <= 1 for b in batches for bounds in b["bounds"].values()
    )
    counts = sorted({len(values) for b in batches for values in b["previous"].values()})
    test, first, fixed = facts["test"], batches[0], facts["fixed_thresholds"]
    lines = [
        f"Model {test['version']} scores RMSE {test['scores']['RMSE']:.4f} "
        f"(r² {test['scores']['r2']:.4f}) on the test set and RMSE "
        f"{first['scores']['RMSE']:.4f} (r² {first['scores']['r2']:.4f}) on {first['batch']}. "
        "The data by batch and the line of every model version: each retrained version follows "
        "the newer data (the retrain policy `since_training` adds the batches seen since the "
        "parent's training).",
        "",
        "![Data and models](images/data_and_models.png)",
        "",
        "| batch | production | RMSE | r² | history tests fired | data tests fired "
        "| retrained | its RMSE | promoted |",
        "| --- | --- | ---: | ---: | --- | --- | --- | ---: | --- |",
    ]
    for b in batches:
        challenger = b["challenger_scores"].get("RMSE")
        lines.append(
            f"| {b['batch']} | {b['version']} | {b['scores']['RMSE']:.4f} "
            f"| {b['scores']['r2']:.4f} | {_fired(b['fired'], history)} "
            f"| {_fired(b['fired'], data_tests)} | {b['new_version'] or '—'} "
            f"| {'—' if challenger is None else f'{challenger:.4f}'} "
            f"| {'yes' if b['promoted'] else 'no'} |"
        )
    bounds = "; ".join(
        BOUND_TEXT[t].format(sigmas=facts["param_sigmas"], factor=facts["iqr_factor"])
        for t in history
    )
    lines += [
        "",
        "![Monitoring](images/monitoring.png)",
        "",
        "Production's RMSE and r² on each batch with the bound of each enabled history test "
        f"({bounds}), computed by the drift component's own functions from the previous scores "
        "of the version in production; a red ring marks a history test firing on that metric, "
        "the green triangles the retrained successor's score on the same batch, and the bottom "
        "panel every test that fired and the version retrained.",
    ]
    if coincide:
        previous = _names([str(c) for c in counts])
        lines.append(
            f"Each production version had {previous} previous "
            f"score{'s' if counts != [1] else ''} when it was tested (its score on the batch it "
            "was trained for), so σ and the IQR are zero and the bounds coincide with that "
            "score: any worse score fires them all. That is the course's rule working as "
            "specified on a short history; with longer runs of one version the parametric and "
            "IQR bounds widen and tolerate noise."
        )
    summary = (
        f"The retraining signal fired on {len(retrained)} of {len(batches)} batches and "
        f"{len(promoted)} challengers were promoted, ending with version "
        f"{facts['production']} in production. The history tests fired on "
        f"{_names(fired_history) or 'no batch'}"
    )
    if data_only:
        summary += (
            f"; on {_names([b['batch'] for b in data_only])} the model's error was within its "
            f"history and only the data tests fired ({_fired(data_only_flags, data_tests)}): "
            "the inputs moved away from the training data."
        )
    else:
        summary += "."
    challenger = worst["challenger_scores"].get("RMSE")
    summary += (
        f" The worst batch is {worst['batch']}: RMSE {worst['scores']['RMSE']:.4f} for "
        f"{worst['version']}"
        + (
            f", {challenger:.4f} for its successor {worst['new_version']}."
            if challenger is not None
            else "."
        )
    )
    if "fixed" not in history and "RMSE" in fixed:
        side = "above" if worst["scores"]["RMSE"] > fixed["RMSE"] else "below"
        summary += (
            f" A fixed threshold (RMSE {fixed['RMSE']:g}) is configured but not an enabled "
            f"test; that worst score is {side} it."
        )
    lines += [
        "",
        summary,
        "",
        "The scenario report `make run` writes (`report.html`), drawn as a picture from the "
        "same store:",
        "",
        "![The scenario report](images/report.png)",
    ]
    return "\n".join(lines) + "\n"


def write_readme(readme: Path, facts: dict[str, Any]) -> Path:
    """Put :func:`results_markdown` between the results markers of ``readme``.

    Raises:
        ValueError: the markers are missing.
    """
    text = readme.read_text(encoding="utf-8")
    start, stop = text.find(RESULTS_BEGIN), text.find(RESULTS_END)
    if start < 0 or stop < start:
        raise ValueError(f"markers {RESULTS_BEGIN!r} … {RESULTS_END!r} not in {readme}")
    body = results_markdown(facts)
    readme.write_text(
        text[: start + len(RESULTS_BEGIN)] + "\n" + body + text[stop:], encoding="utf-8"
    )
    return readme


def _save(figure: Any, path: Path) -> Path:
    figure.savefig(path, metadata=PNG_METADATA, bbox_inches="tight", pad_inches=0.15)
    pyplot().close(figure)
    return path


def _datasets(store: Store) -> dict[str, pd.DataFrame]:
    """The newest stored version of each named dataset, by name."""
    frames: dict[str, pd.DataFrame] = {}
    for key in sorted(store.list_keys("datasets/")):
        if key.endswith("/data.parquet"):
            frames[key.split("/")[1]] = read_dataset(store, key)
    return frames


def plot_data_and_models(store: Store, config: LifecycleConfig, out: Path) -> Path:
    """The course data, batch by batch, and the line of every model version."""
    plt = pyplot()
    x_name, y_name = config.schema.feature_names[0], config.schema.target.name
    frames = _datasets(store)
    figure, axes = plt.subplots(figsize=(9, 5.5), dpi=110)
    batches = sorted(name for name in frames if name.startswith("batch_"))
    order = [name for name in frames if not name.startswith(("batch_", "retrain"))] + batches
    colours = plt.cm.viridis(np.linspace(0, 0.9, len(order)))
    for name, colour in zip(order, colours, strict=True):
        axes.scatter(
            frames[name][x_name], frames[name][y_name], s=22, color=colour, label=plot_text(name)
        )
    xs = pd.concat(frames.values())[x_name]
    grid = pd.DataFrame({x_name: np.linspace(xs.min(), xs.max(), 50)})
    registry = ModelRegistry(store, config.model.name, model=config.model)
    for version in registry.versions():
        estimator, _ = registry.load_artifact(version)
        axes.plot(grid[x_name], estimator.predict(grid), linewidth=1.2, label=f"model {version}")
    axes.set(
        xlabel=plot_text(x_name),
        ylabel=plot_text(y_name),
        title="Data by batch and each model version's line",
    )
    axes.legend(fontsize=8, ncol=2)
    axes.grid(alpha=0.3)
    return _save(figure, out / "data_and_models.png")


def _bound_groups(bounds: dict[str, float]) -> list[tuple[list[str], float]]:
    """The tests grouped by equal bound, in test order."""
    groups: dict[float, list[str]] = {}
    for test, value in bounds.items():
        groups.setdefault(value, []).append(test)
    return [(tests, value) for value, tests in groups.items()]


def plot_monitoring(facts: dict[str, Any], out: Path) -> Path:
    """Production's score per batch with each test's bound, what fired, what was retrained."""
    plt = pyplot()
    batches, metrics, history = facts["batches"], facts["metrics"], facts["history_tests"]
    x = np.arange(len(batches))
    figure, axes = plt.subplots(
        len(metrics) + 1,
        1,
        figsize=(10, 9),
        dpi=110,
        sharex=True,
        gridspec_kw={"height_ratios": [3] * len(metrics) + [2.2]},
        layout="constrained",
    )
    legend: dict[str, Any] = {}
    for ax, metric in zip(axes, metrics, strict=False):
        production = [b["scores"][metric] for b in batches]
        (line,) = ax.plot(x, production, "o-", color=_PRODUCTION)
        legend.setdefault("production model's score", line)
        challengers = [b["challenger_scores"].get(metric, np.nan) for b in batches]
        (line,) = ax.plot(x, challengers, "^", color=_CHALLENGER, markersize=7)
        legend.setdefault("its retrained successor on the same batch", line)
        for i, b in enumerate(batches):
            for tests, value in _bound_groups(b["bounds"].get(metric, {})):
                colour, style = THRESHOLD_STYLES[tests[0]]
                line = ax.hlines(
                    value, i - 0.35, i + 0.35, colors=colour, linestyles=style, linewidth=2.2
                )
                label = " = ".join(tests) + " test bound" + (" (equal)" if len(tests) > 1 else "")
                legend.setdefault(label, line)
            if any(_flag_test(f)[1] == metric and _flag_test(f)[0] in history for f in b["fired"]):
                ring = ax.scatter(
                    [i],
                    [b["scores"][metric]],
                    s=230,
                    facecolors="none",
                    edgecolors=_FIRED,
                    linewidths=1.8,
                    zorder=4,
                )
                legend.setdefault("a history test fired on this metric", ring)
        worse = "higher" if METRIC_HIGHER_IS_WORSE[metric] else "lower"
        ax.set_ylabel(f"{metric} ({worse} is worse)")
        ax.grid(alpha=0.3)
    figure.legend(
        list(legend.values()), list(legend), loc="outside lower center", ncol=2, fontsize=9
    )
    # What fired, one row per test and subject, and the retrain it led to.
    panel = axes[-1]
    flags = sorted(
        {flag for b in batches for flag in b["fired"]},
        key=lambda f: (
            _flag_test(f)[0] not in history,
            _flag_test(f)[1],
            history.index(_flag_test(f)[0]) if _flag_test(f)[0] in history else 0,
            f,
        ),
    )
    for row, flag in enumerate(flags):
        fired = [flag in b["fired"] for b in batches]
        panel.scatter(
            x, [row] * len(x), marker="s", s=70, color=[_FIRED if f else _QUIET for f in fired]
        )
    retrain_row = len(flags) + 0.3
    for i, b in enumerate(batches):
        text = (b["new_version"] + (" ✓" if b["promoted"] else " ✗")) if b["drift"] else "—"
        panel.annotate(text, (i, retrain_row), ha="center", va="center", fontsize=9)
    labels = [flag.replace("_test_", " on ") for flag in flags] + ["retrained (✓ promoted)"]
    panel.set_yticks([*range(len(flags)), retrain_row], labels)
    panel.tick_params(axis="y", labelsize=8)
    panel.set_ylim(retrain_row + 0.8, -0.8)
    panel.set_title("tests fired (red) and the version retrained", fontsize=9, loc="left")
    panel.set_xticks(x, [f"{b['batch']}\n{b['version']}" for b in batches])
    panel.set_xlabel("batch, and the version in production")
    panel.set_xlim(-0.6, len(batches) - 0.4)
    figure.suptitle("Monitoring: production per batch, the history tests' bounds, what fired")
    return _save(figure, out / "monitoring.png")


def sum_lines(rows: list[list[str]]) -> int:
    """How many text lines the rows take (the tallest cell of each row)."""
    return sum(max(cell.count("\n") + 1 for cell in row) for row in rows)


def _table(axes: Any, title: str, header: list[str], rows: list[list[str]]) -> None:
    """A table filling ``axes``, each row as tall as its lines."""
    axes.axis("off")
    axes.set_title(title, loc="left", fontsize=12, fontweight="bold")
    if not rows:
        return
    table = axes.table(cellText=rows, colLabels=header, cellLoc="left", bbox=[0, 0, 1, 1])
    table.auto_set_font_size(False)
    table.set_fontsize(8)
    table.auto_set_column_width(list(range(len(header))))
    lines = [1] + [max(cell.count("\n") + 1 for cell in row) for row in rows]
    for (row, _), cell in table.get_celld().items():
        cell.set_height(lines[row] / sum(lines))
        if row == 0:
            cell.set_facecolor("#f3f5f8")


def plot_report(store: Store, config: LifecycleConfig, out: Path) -> Path:
    """The scenario report (``make run``'s ``report.html``) as one picture: its metric charts
    (drawn by :func:`pipelines.report.metric_history_png`) and its three tables."""
    plt = pyplot()
    name = config.model.name
    registry = ModelRegistry(store, name)
    outcomes = batch_outcomes(store, name)
    production = registry.alias()
    runs = [
        [
            o.batch,
            o.model_version,
            f"{o.rmse:.4f}",
            f"{o.r2:.4f}",
            "\n".join(textwrap.wrap(", ".join(k for k, v in o.flags.items() if v) or "none", 60)),
            "TRUE" if o.drift else "FALSE",
            o.new_version or "-",
            "-" if o.promoted is None else "TRUE" if o.promoted else "FALSE",
        ]
        for o in outcomes
    ]
    versions = []
    for version in registry.versions():
        model = registry.get(version)
        versions.append(
            [
                f"{version} (production)" if version == production else version,
                model.parent_version or "-",
                model.created_at[:19],
                str(len(model.training_datasets)),
                ", ".join(f"{k} {v:.4g}" for k, v in model.test_metrics.items()),
            ]
        )
    decisions = [
        [
            d["time_stamp"][:19],
            d["kind"],
            d["version"],
            d["batch"],
            d["decision"],
            "\n".join(textwrap.wrap(str(d.get("reason", "")), 70)),
        ]
        for d in decision_log(store).records()
        if d["model_name"] == name
    ]
    charts = [report_history_png(store, config, metric) for metric in config.drift.metrics]
    header = ["batch", "model", "RMSE", "R²", "tests fired", "drift", "new version", "promoted"]
    tables = [
        ("Monitoring runs", header, runs),
        ("Model versions", VERSION_COLUMNS, versions),
        ("Decision log", DECISION_COLUMNS, decisions),
    ]
    heights = [0.5] + [3.4] * len(charts) + [0.5 + 0.2 * (sum_lines(r) + 1) for *_, r in tables]
    figure, axes = plt.subplots(
        len(heights),
        1,
        figsize=(11, sum(heights)),
        dpi=100,
        gridspec_kw={"height_ratios": heights},
    )
    axes[0].axis("off")
    retrains = sum(1 for o in outcomes if o.drift)
    promotions = sum(1 for o in outcomes if o.promoted)
    axes[0].text(
        0,
        0.5,
        f"Scenario report: model “{name}”\n{len(outcomes)} monitored batches, {retrains} drift "
        f"decisions to retrain, {promotions} promotions; production is now {production}.",
        fontsize=12,
        va="center",
    )
    for ax, png in zip(axes[1:], charts, strict=False):
        ax.imshow(plt.imread(io.BytesIO(png)))
        ax.axis("off")
    for ax, (title, columns, rows) in zip(axes[1 + len(charts) :], tables, strict=True):
        _table(ax, title, list(columns), rows)
    return _save(figure, out / "report.png")


def write_facts(facts: dict[str, Any], out: Path) -> Path:
    path = out / FACTS_FILE
    path.write_text(json.dumps(facts, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return path


def read_facts(folder: Path = DOCS / "images") -> dict[str, Any]:
    """The committed run's numbers."""
    return json.loads((folder / FACTS_FILE).read_text(encoding="utf-8"))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--store", help="store of a finished scenario run")
    parser.add_argument("--out", type=Path, default=DOCS / "images")
    parser.add_argument("--readme", type=Path, default=README)
    parser.add_argument(
        "--readme-only",
        action="store_true",
        help="rewrite the README's results from the committed results.json",
    )
    args = parser.parse_args(argv)
    config = LifecycleConfig()
    if args.readme_only:
        print(f"wrote {write_readme(args.readme, read_facts(args.out))}")
        return 0
    if not args.store:
        parser.error("--store is required (or --readme-only)")
    store = open_store(args.store)
    args.out.mkdir(parents=True, exist_ok=True)
    facts = run_facts(store, config)
    for path in (
        write_facts(facts, args.out),
        plot_data_and_models(store, config, args.out),
        plot_monitoring(facts, args.out),
        plot_report(store, config, args.out),
        write_readme(args.readme, facts),
    ):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
