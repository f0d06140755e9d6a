"""The results pictures of docs/README.md, drawn from the store of a real scenario run.

    .venv/bin/lifecycle scenario course --reset --store /tmp/docs-store
    .venv/bin/python docs/results.py --store /tmp/docs-store --out docs/images

Writes ``data_and_models.png`` (the data by batch with every model version's fitted line),
``monitoring.png`` (each metric of production per batch with the hard, parametric and IQR
thresholds computed from the previous scores of the same version, the fixed threshold, the
drift points and the retrains) and ``versions.png`` (the versions' scores on the batch they
were trained for: champion against challenger).
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from lifecycle.config import METRIC_HIGHER_IS_WORSE, LifecycleConfig  # noqa: E402
from lifecycle.datasets import read_dataset  # noqa: E402
from lifecycle.history import decision_log, evaluation_log  # noqa: E402
from lifecycle.registry import ModelRegistry  # noqa: E402
from lifecycle.store import Store, open_store  # noqa: E402

METRICS = ("RMSE", "r2")
# Fixed metadata so the PNGs are byte-stable for the same store.
PNG_METADATA = {"Software": None}


def _datasets(store: Store) -> dict[str, pd.DataFrame]:
    """The newest stored version of each named dataset, by name."""
    frames: dict[str, pd.DataFrame] = {}
    for key in sorted(store.list_keys("datasets/")):
        if key.endswith("/data.parquet"):
            frames[key.split("/")[1]] = read_dataset(store, key)
    return frames


def plot_data_and_models(store: Store, config: LifecycleConfig, out: Path) -> Path:
    """The course data, batch by batch, and the line of every model version."""
    x_name, y_name = config.schema.feature_names[0], config.schema.target.name
    frames = _datasets(store)
    fig, ax = plt.subplots(figsize=(9, 5.5), dpi=110)
    order = ["train", "test", *sorted(name for name in frames if name.startswith("batch_"))]
    colors = plt.cm.viridis(np.linspace(0, 0.9, len(order)))
    for name, color in zip(order, colors, strict=True):
        if name in frames:
            ax.scatter(frames[name][x_name], frames[name][y_name], s=22, color=color, label=name)
    xs = pd.concat(frames.values())[x_name]
    grid = pd.DataFrame({x_name: np.linspace(xs.min(), xs.max(), 50)})
    registry = ModelRegistry(store, config.model.name)
    for version in registry.versions():
        estimator, _ = registry.load_artifact(version)
        ax.plot(grid[x_name], estimator.predict(grid), linewidth=1.2, label=f"model {version}")
    ax.set(
        xlabel=x_name,
        ylabel=y_name,
        title="Course data by batch and the fitted line of each model version",
    )
    ax.legend(fontsize=7, ncol=2)
    fig.tight_layout()
    path = out / "data_and_models.png"
    fig.savefig(path, metadata=PNG_METADATA)
    plt.close(fig)
    return path


def thresholds(
    previous: Sequence[float], higher_is_worse: bool, sigmas: float, iqr_factor: float
) -> dict[str, float]:
    """The bound each history test compares the last score with (course rules)."""
    values = np.asarray(previous, dtype=float)
    mean, std = float(values.mean()), float(values.std())
    q1, q3 = (float(q) for q in np.quantile(values, [0.25, 0.75]))
    sign = 1.0 if higher_is_worse else -1.0
    return {
        "hard": mean,
        "param": mean + sign * sigmas * std,
        "iqr": (q3 + iqr_factor * (q3 - q1)) if higher_is_worse else (q1 - iqr_factor * (q3 - q1)),
    }


def plot_monitoring(store: Store, config: LifecycleConfig, out: Path) -> Path:
    """Production's score on each batch with the tests' thresholds, drift points, retrains."""
    records = pd.DataFrame(evaluation_log(store).records()).sort_values("time_stamp", kind="stable")
    decisions = pd.DataFrame(decision_log(store).records())
    drifted = set(
        decisions.loc[
            (decisions["kind"] == "drift") & (decisions["decision"] == "retrain"), "batch"
        ]
    )
    promoted = decisions[(decisions["kind"] == "promotion") & (decisions["decision"] == "promoted")]
    monitored = records[records["role"] == "monitor"]
    batches = list(dict.fromkeys(monitored["batch"]))
    fig, axes = plt.subplots(len(METRICS), 1, figsize=(9, 7), dpi=110, sharex=True)
    for ax, metric in zip(axes, METRICS, strict=True):
        worse_up = METRIC_HIGHER_IS_WORSE[metric]
        rows = monitored[monitored["metric"] == metric]
        bounds: dict[str, list[float]] = {"hard": [], "param": [], "iqr": []}
        for _, row in rows.iterrows():
            previous = records[
                (records["version"] == row["version"])
                & (records["metric"] == metric)
                & (records["time_stamp"] < row["time_stamp"])
            ]["score"]
            found = (
                thresholds(
                    previous.tolist(), worse_up, config.drift.param_sigmas, config.drift.iqr_factor
                )
                if len(previous)
                else {name: np.nan for name in bounds}
            )
            for name in bounds:
                bounds[name].append(found[name])
        x = np.arange(len(rows))
        ax.plot(x, rows["score"], "o-", color="black", label=f"production {metric}")
        for (name, values), style in zip(bounds.items(), ("--", "-.", ":"), strict=True):
            ax.plot(x, values, style, drawstyle="steps-mid", label=f"{name} test threshold")
        if metric in config.drift.fixed_thresholds:
            ax.axhline(
                config.drift.fixed_thresholds[metric],
                color="grey",
                linewidth=0.8,
                label="fixed threshold",
            )
        for i, (_, row) in enumerate(rows.iterrows()):
            ax.annotate(
                row["version"],
                (i, row["score"]),
                textcoords="offset points",
                xytext=(0, 6),
                ha="center",
                fontsize=7,
            )
            if row["batch"] in drifted:
                ax.scatter(
                    [i],
                    [row["score"]],
                    s=140,
                    facecolors="none",
                    edgecolors="red",
                    linewidths=1.5,
                    label="drift → retrain"
                    if i == min(j for j, b in enumerate(rows["batch"]) if b in drifted)
                    else None,
                )
        ax.set(ylabel=metric, yscale="symlog" if worse_up else "linear")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, loc="best")
    axes[-1].set_xticks(np.arange(len(batches)), batches)
    promotions = ", ".join(f"{r.version}@{r.batch}" for r in promoted.itertuples())
    fig.suptitle(f"Production per batch (version labelled). Promotions: {promotions}", fontsize=9)
    fig.tight_layout()
    path = out / "monitoring.png"
    fig.savefig(path, metadata=PNG_METADATA)
    plt.close(fig)
    return path


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--store", required=True, help="store of a finished scenario run")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "images")
    args = parser.parse_args(argv)
    store = open_store(args.store)
    config = LifecycleConfig()
    args.out.mkdir(parents=True, exist_ok=True)
    for path in (
        plot_data_and_models(store, config, args.out),
        plot_monitoring(store, config, args.out),
    ):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
