"""``lifecycle``: a subcommand per stage, the pipelines on the local runner, and tools.

Stage subcommands run one stage's logic directly (``ingest``, ``validate``, ``fit``,
``evaluate``, ``detect-drift``, ``select-data``, ``promote``); ``train``, ``monitor`` and
``scenario`` run whole pipelines on KFP's local runner.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lifecycle.errors import (
    Interrupted,
    InvalidInputError,
    LifecycleError,
    ModelNotFoundError,
    interrupted_by_signals,
)
from lifecycle.store.base import validate_name

if TYPE_CHECKING:
    from lifecycle.config import LifecycleConfig
    from lifecycle.store import Store

# Each command imports what it needs when it runs (the store's clients, pandas, scipy,
# scikit-learn, kfp): `lifecycle data-drift` starts without most of them.
Handler = Callable[[argparse.Namespace], int]


def _config(args: argparse.Namespace) -> LifecycleConfig:
    from lifecycle.config import load_config

    return load_config(args.config)


def _store(args: argparse.Namespace) -> Store:
    from lifecycle.store import open_store

    return open_store(args.store)


def _existing_store(args: argparse.Namespace) -> Store:
    """The store of a command that only reads: a path or bucket that does not exist is an
    error, never a new empty store."""
    from lifecycle.store import open_store

    return open_store(args.store, create=False)


def _print_json(data: object) -> None:
    print(json.dumps(data, indent=2, sort_keys=True, default=str))


# Stage subcommands -----------------------------------------------------------------


def cmd_validate(args: argparse.Namespace) -> int:
    from components.ingest.logic import local_source
    from components.validate.logic import validate_file

    schema = _config(args).schema
    # A file needs no store; a store key is read from an existing store only.
    if Path(args.data).is_file():
        summary = validate_file(args.data, schema, args.data)
    else:
        with local_source(_existing_store(args), args.data) as path:
            summary = validate_file(path, schema, args.data)
    print(f"{args.data}: valid, {summary.rows} rows, columns {', '.join(summary.columns)}")
    return 0


# Each stage alone is a run of its own (a transaction): its writes count once it returns, and
# it leaves nothing when it fails or is interrupted.


def _in_standalone_run(args: argparse.Namespace, task: str, work: Callable[[Any], Any]) -> Any:
    """``work(transaction)`` inside a run of its own, committed when it returns."""
    from components.finalize.logic import standalone_run

    with standalone_run(_store(args), _config(args), task) as transaction:
        return work(transaction)


def cmd_ingest(args: argparse.Namespace) -> int:
    from components.ingest.logic import ingest

    ref = _in_standalone_run(
        args,
        "ingest",
        lambda tx: ingest(_store(args), args.data, args.name, _config(args).schema, tx.run),
    )
    _print_json(asdict(ref))
    return 0


def cmd_fit(args: argparse.Namespace) -> int:
    from components.train.logic import train

    def work(tx: Any) -> Any:
        model, description = train(
            _store(args),
            _config(args),
            args.dataset,
            args.test_dataset,
            args.parent_version,
            tx.run,
        )
        tx.contribute({"registered": [model.version]})
        return model, description

    model, description = _in_standalone_run(args, "train", work)
    print(description)
    print(f"registered {model.name} {model.version}")
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    from components.evaluate.logic import evaluate

    result = _in_standalone_run(
        args,
        "evaluate",
        lambda tx: evaluate(
            _store(args),
            _config(args),
            args.model_version,
            args.dataset,
            args.batch,
            args.role,
            tx.run,
        ),
    )
    _print_json(asdict(result))
    return 0


def cmd_detect_drift(args: argparse.Namespace) -> int:
    from components.detect_drift.logic import detect_drift

    decision = _in_standalone_run(
        args,
        "detect_drift",
        lambda tx: detect_drift(
            _store(args),
            _config(args),
            args.model_version,
            args.dataset,
            args.batch,
            args.evaluation_time,
            tx.run,
        ),
    )
    _print_json(asdict(decision))
    return 0


def cmd_select_data(args: argparse.Namespace) -> int:
    from components.select_data.logic import select_data

    refs = _in_standalone_run(
        args,
        "select_data",
        lambda tx: select_data(_store(args), _config(args), args.model_version, tx.run),
    )
    _print_json({"datasets": [asdict(ref) for ref in refs], "rows": sum(r.rows for r in refs)})
    return 0


def cmd_promote(args: argparse.Namespace) -> int:
    from components.finalize.logic import promotion_contribution
    from components.promote.logic import promote

    def work(tx: Any) -> Any:
        promotion = promote(
            _store(args),
            _config(args),
            args.challenger,
            args.champion,
            args.dataset,
            args.batch,
            tx.run,
        )
        tx.contribute(promotion_contribution(promotion))
        return tx

    transaction = _in_standalone_run(args, "promote", work)
    _print_json(transaction.commit.promotion)
    return 0


def cmd_finalize(args: argparse.Namespace) -> int:
    from components.finalize.logic import finalize, summary_markdown
    from lifecycle.runs import RunContext

    run = RunContext(args.run_id, "finalize", "cli")
    outcome = finalize(_existing_store(args), _config(args), run, args.status)
    print(summary_markdown(outcome, "lifecycle finalize"), end="")
    return 0


def cmd_predict(args: argparse.Namespace) -> int:
    from components.predict.logic import predict_file

    scored = predict_file(
        _store(args), _config(args), args.data, args.out, args.model_version, args.batch_rows
    )
    print(f"scored {scored.rows} rows with {scored.model_name} {scored.version} -> {scored.output}")
    return 0


# Serving ---------------------------------------------------------------------------


def cmd_serve(args: argparse.Namespace) -> int:
    from components.serve.server import serve
    from components.serve.settings import build_settings

    settings = build_settings(
        _config(args),
        host=args.host,
        port=args.port,
        model_name=args.model,
        reload_seconds=args.reload_seconds,
        limits={"max_rows": args.max_rows, "max_body_bytes": args.max_body_bytes},
        log={
            "enabled": not args.no_log,
            "flush_rows": args.log_flush_rows,
            "flush_seconds": args.log_flush_seconds,
            "max_buffered_rows": args.log_max_rows,
            "spool_dir": args.spool_dir,
        },
    )
    store = _reachable_store(args)
    name = settings.served_model
    print(
        f"serving model {name!r} (production) from {store.uri} on "
        f"http://{settings.host}:{settings.port}: POST /v2/models/{name}/infer, "
        f"POST /v1/models/{name}:predict, GET /v2/health/ready, GET /metrics",
        flush=True,
    )
    serve(settings, store.uri)
    return 0


def cmd_feedback(args: argparse.Namespace) -> int:
    from components.serve.feedback import join_feedback, read_actuals, write_batch

    config = _config(args)
    store = _store(args)
    name = args.model or config.model.name
    actuals = read_actuals(args.actuals, config.schema.target.name)
    feedback = join_feedback(store, name, config.schema, actuals)
    path = write_batch(feedback.batch, args.out)
    print(
        f"joined {feedback.matched} of {len(actuals)} actuals to the predictions of {name} "
        f"{', '.join(feedback.versions)} -> {path}"
    )
    if feedback.unmatched_ids:
        shown = ", ".join(feedback.unmatched_ids[:5])
        more = " …" if len(feedback.unmatched_ids) > 5 else ""
        print(f"unmatched request ids ({len(feedback.unmatched_ids)}): {shown}{more}")
    if feedback.duplicate_predictions:
        print(f"request ids logged twice (the latest kept): {feedback.duplicate_predictions}")
    return 0


# Pipelines on the local runner -----------------------------------------------------


def _reachable_store(args: argparse.Namespace) -> Store:
    """Open the store before a pipeline starts, so that an unreachable endpoint, wrong
    credentials, a bad bucket or a read-only store end in one clear line, not in a failed
    task's traceback."""
    from lifecycle.store import open_store, resolve_store_uri

    store = open_store(resolve_store_uri(args.store))
    store.check_writable()
    return store


def _print_commit(run: Any) -> None:
    commit = run.commit
    production = commit.alias(commit.model) or "none"
    print(f"run {run.run_id}: committed as commit {commit.seq}; production is {production}")


def cmd_train(args: argparse.Namespace) -> int:
    from lifecycle.batches import locate_source
    from pipelines.local import run_training

    config = _config(args)  # a bad config ends here, before the store is touched
    store = _reachable_store(args)
    # Every argument is checked before any task runs: bad input is never retried.
    for source in (args.data, args.test or args.data):
        locate_source(store, source)
    run = run_training(args.data, args.test or args.data, store.uri, config, args.runner)
    _print_commit(run)
    return 0


def cmd_monitor(args: argparse.Namespace) -> int:
    from lifecycle.batches import identify_batch, source_sha256
    from pipelines.local import run_monitoring
    from pipelines.summary import batch_outcomes, format_table

    # Every argument is checked before any task runs: bad input is never retried.
    validate_name(args.batch_id, "--batch-id")
    config = _config(args)
    store = _reachable_store(args)
    sha256 = source_sha256(store, args.batch_file)
    identity = identify_batch(store, config.model.name, args.batch_id, sha256, args.force)
    if not identity.is_new:
        print(identity.describe())
        return 0
    run = run_monitoring(
        args.batch_file, args.batch_id, store.uri, config, args.runner, force=args.force
    )
    if run.commit is None:  # another run committed the same batch meanwhile
        print(identify_batch(store, config.model.name, args.batch_id, sha256).describe())
        return 0
    outcomes = [o for o in batch_outcomes(store, config.model.name) if o.run_id == run.run_id]
    print(format_table(outcomes))
    _print_commit(run)
    return 0


def cmd_scenario(args: argparse.Namespace) -> int:
    from lifecycle.outputs import writable_file
    from pipelines.local import run_monitoring, run_training
    from pipelines.scenarios import scenario
    from pipelines.summary import batch_outcomes, format_table

    started = time.monotonic()
    # The report is written after the whole scenario: a path it cannot take fails now.
    report_path = writable_file(args.report, "--report")
    config = _config(args) if args.config else None
    store = _reachable_store(args)
    store_uri = store.uri
    if args.reset:
        store.clear()
    elif store.list_keys():
        raise LifecycleError(
            f"store {store_uri} is not empty: pass --reset to start the scenario afresh"
        )
    with tempfile.TemporaryDirectory(prefix="lifecycle-scenario-") as workdir:
        plan = scenario(args.name, Path(workdir))
        config = config or plan.config
        print(
            f"== training on {plan.training_file.name}, testing on {plan.test_file.name}",
            flush=True,
        )
        run_training(str(plan.training_file), str(plan.test_file), store_uri, config, args.runner)
        for batch_id, path in plan.batches:
            print(f"== monitoring {batch_id}", flush=True)
            run_monitoring(str(path), batch_id, store_uri, config, args.runner)
        if args.serve:
            from pipelines.scenarios.serving import served_segment  # serve … reload, own store

            served_segment(plan, config, runner="subprocess")
    print(f"\nScenario {plan.name!r}, store {store_uri}:\n")
    print(format_table(batch_outcomes(store, config.model.name)))
    from pipelines.report import write_scenario_report

    report = write_scenario_report(store, config, report_path, f"Scenario {plan.name!r}")
    print(f"report: {report.resolve()}")
    print(f"\nfinished in {time.monotonic() - started:.1f} s")
    return 0


# Tools -----------------------------------------------------------------------------


def cmd_drift(args: argparse.Namespace) -> int:
    from components.detect_drift.logic import flags_from_history_table
    from lifecycle.tables import read_table

    frame = read_table(args.eval_history, text_columns=("version", "batch"))
    print(json.dumps(flags_from_history_table(frame, _config(args).drift, args.eval_history)))
    return 0


def _prefetch(module: str):
    """Import ``module`` in a background thread (join it before using the module): its import
    then overlaps the reading of the input files, which pyarrow does without the GIL."""
    import importlib
    import threading

    thread = threading.Thread(target=importlib.import_module, args=(module,), daemon=True)
    thread.start()
    return thread


def _suite_settings(args: argparse.Namespace):
    """The suite's settings: the config's (the defaults without ``--config``), with the
    correction of ``--correction``, else of the config file when it sets one, else BH."""
    import dataclasses

    from components.detect_drift.suite import SuiteSettings

    if args.config:
        drift = _config(args).drift
        settings = SuiteSettings.from_config(drift)
        chosen = drift.correction if "correction" in drift.model_fields_set else None
    else:
        settings, chosen = SuiteSettings(), None
    return dataclasses.replace(settings, correction=args.correction or chosen or "bh")


def _suite_table(result) -> list[str]:
    rows = [["column", "kind", "test", "statistic", "p-value", "threshold", "drifted"]]
    for column in result.columns:
        for test, (statistic, p_value, drifted) in column.tests.items():
            rows.append(
                [
                    column.name,
                    column.kind,
                    test,
                    f"{statistic:.6g}",
                    "" if p_value is None else f"{p_value:.4g}",
                    f"{result.thresholds[test]:.4g}",
                    "TRUE" if drifted else "FALSE",
                ]
            )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in rows
    ]


def _suite_summary(result, settings) -> list[str]:
    drifted = sum(column.drifted for column in result.columns)
    lines = [
        f"{drifted} of {len(result.columns)} columns drifted (share {result.drifted_share:.3f}); "
        f"dataset drift: {'TRUE' if result.dataset_drift else 'FALSE'} "
        f"(share > {result.drift_share:g})"
    ]
    p_tests = [test for test in ("ks", "chi2") if test in result.thresholds]
    if result.p_value_tests:
        names = {"none": "no correction", "bh": "Benjamini-Hochberg", "bonferroni": "Bonferroni"}
        bars = ", ".join(f"{test} p < {result.thresholds[test]:.4g}" for test in p_tests)
        lines.append(
            f"multiple testing: {names[result.correction]} over {result.p_value_tests} p-value "
            f"tests at {settings.ks_alpha:g}: {bars}"
        )
    return lines


def cmd_data_drift(args: argparse.Namespace) -> int:
    if "numpy" not in sys.modules:
        # The suite makes no BLAS call, but OpenBLAS's worker threads (numpy's and scipy's)
        # spin for a while once started, taking a core from the reading.
        os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
        # The columns are filled once, straight after allocation: transparent huge pages
        # save no fault there, and where the kernel compacts memory to find them (its
        # common "madvise" setting), the command spends a tenth more CPU time.
        os.environ.setdefault("NUMPY_MADVISE_HUGEPAGE", "0")
    # What the main thread imports, it imports before the prefetch starts (see _prefetch).
    import numpy.lib.format  # noqa: F401
    import pyarrow.compute  # noqa: F401
    import pyarrow.csv  # noqa: F401
    import pyarrow.parquet  # noqa: F401

    from components.detect_drift.suite.files import InputError, drift_between_files
    from lifecycle.errors import InvalidInputError

    settings = _suite_settings(args)
    # The tests' p-values need scipy.special: imported while the files are read and the
    # reference profiled (numpy and pyarrow work without the GIL). Large samples never need
    # scipy.stats (a second to import); small ones import it when their exact KS needs it.
    scipy_special = _prefetch("scipy.special")
    try:
        result = drift_between_files(
            args.current,
            settings,
            reference=args.reference,
            reference_profile=args.reference_profile,
            profile_to=args.write_profile,
            shared_only=args.shared_columns,
            workers=max(os.cpu_count() or 1, 1),
            before_tests=scipy_special.join,
        )
    except (InputError, ValueError, OSError) as exc:
        text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InvalidInputError(f"data-drift: {text}") from None
    if args.write_profile:
        print(f"wrote the reference profile to {args.write_profile}", file=sys.stderr)
    if result is None:
        return 0
    if args.json:
        _print_json(result.to_dict())
        return 0
    print("\n".join(_suite_table(result)))
    print()
    print("\n".join(_suite_summary(result, settings)))
    return 0


def cmd_models(args: argparse.Namespace) -> int:
    from lifecycle import keys
    from lifecycle.errors import IntegrityError
    from lifecycle.registry import ModelRegistry

    store = _existing_store(args)
    model_config = _config(args).model
    names = sorted({key.split("/")[1] for key in store.list_keys(f"{keys.MODELS}/")})
    refused: list[str] = []
    for name in names:
        own_model = model_config if name == model_config.name else None
        registry = ModelRegistry(store, name, model=own_model)
        production = registry.alias()
        print(f"{name} (production: {production or 'none'})")
        for version in registry.versions():
            model = registry.get(version)
            marker = "*" if version == production else " "
            metrics = ", ".join(f"{k}={v:.6g}" for k, v in model.test_metrics.items())
            try:  # its file's hash and types, read as data: nothing in it is built
                registry.artifact(version)
                state = ""
            except (IntegrityError, ModelNotFoundError) as exc:
                refused.append(str(exc))
                state = "  REFUSED"
            print(
                f" {marker} {version}  {model.created_at}  "
                f"parent={model.parent_version or '-'}  {metrics}{state}"
            )
    if not names:
        print(f"no models in store {store.uri}")
    if refused:
        more = f" (and {len(refused) - 1} more refused)" if len(refused) > 1 else ""
        raise IntegrityError(refused[0] + more)
    return 0


def cmd_export_model(args: argparse.Namespace) -> int:
    import pickle

    from lifecycle.outputs import writable_file, write_atomically
    from lifecycle.registry import ModelRegistry

    target = writable_file(args.to, "--to")
    fmt = args.format or ("skops" if target.suffix == ".skops" else "pickle")
    config = _config(args)
    registry = ModelRegistry(_existing_store(args), config.model.name, model=config.model)
    version = registry.resolve(args.version)
    if fmt == "skops":
        data = registry.artifact(version)
    else:
        # Built from the checked skops file; the pickle is for the user, never read back.
        estimator, _ = registry.load_artifact(version)
        data = pickle.dumps(estimator, protocol=pickle.HIGHEST_PROTOCOL)
    write_atomically(target, data, "--to")
    print(f"wrote {target} ({fmt}, model {config.model.name!r} {version})")
    return 0


def cmd_export_views(args: argparse.Namespace) -> int:
    from lifecycle.history import decision_log, drift_log, evaluation_log
    from lifecycle.outputs import writable_folder, write_atomically

    store = _existing_store(args)
    target = writable_folder(args.to, "--to")
    for log in (evaluation_log(store), drift_log(store), decision_log(store)):
        # Rendered from the records, as a refreshed view would be: nothing is written to
        # the store, so a read-only store (or read-only credentials) exports too.
        records = log.records()
        if not records and not store.exists(log.view_key):
            continue
        path = target / log.view_key
        writable_folder(path.parent, "--to")
        write_atomically(path, log.render_view(records), "--to")
        print(f"wrote {path}")
    return 0


def cmd_cleanup(args: argparse.Namespace) -> int:
    from lifecycle.recovery import cleanup

    if args.grace < 0:
        raise InvalidInputError(f"--grace {args.grace:g}: seconds must be 0 or more")
    store = _existing_store(args)
    report = cleanup(store, args.grace, dry_run=args.dry_run)
    verb = "would remove" if args.dry_run else "removed"
    print(
        f"store {store.uri}: {verb} {len(report.runs)} uncommitted run(s) "
        f"({report.objects} objects), {len(report.temporary)} temporary object(s), "
        f"{len(report.locks)} expired lock(s); {'would rewrite' if args.dry_run else 'rewrote'} "
        f"{len(report.views)} lagging view(s)"
    )
    for run_id in report.runs:
        print(f"  run {run_id}")
    for name in [*report.temporary, *report.locks, *report.views]:
        print(f"  {name}")
    if report.kept:
        print(
            f"kept {len(report.kept)} uncommitted run(s) younger than {args.grace:g} s or whose "
            f"process is alive: {', '.join(report.kept)}"
        )
    return 0


def cmd_verify(args: argparse.Namespace) -> int:
    from lifecycle.consistency import verify_store

    config = _config(args)
    store = _existing_store(args)
    problems = verify_store(store, config.model)
    for problem in problems:
        print(problem)
    print(f"store {store.uri}: " + (f"{len(problems)} problem(s)" if problems else "consistent"))
    return 1 if problems else 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="lifecycle", description=__doc__.splitlines()[0])
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--store", help="store: a folder or minio://HOST:PORT/BUCKET (default $STORE or ./.store)"
    )
    common.add_argument("--config", help="YAML config file (default: the course scenario's config)")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(name: str, handler: Handler, help_text: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, parents=[common], help=help_text, description=help_text)
        sub.set_defaults(handler=handler)
        return sub

    sub = add(
        "validate", cmd_validate, "check a CSV/Parquet file (or store key) against the schema"
    )
    sub.add_argument("--data", required=True, help="file or store key")
    sub = add("ingest", cmd_ingest, "validate and store a file as a versioned dataset")
    sub.add_argument("--data", required=True, help="file or store key")
    sub.add_argument("--name", required=True, help="dataset name, e.g. batch_1")
    sub = add(
        "fit", cmd_fit, "the train stage: fit on stored datasets and register the next version"
    )
    sub.add_argument(
        "--dataset", required=True, action="append", help="training dataset key (repeatable)"
    )
    sub.add_argument("--test-dataset", help="dataset key to score the new model on")
    sub.add_argument("--parent-version", help="the version this model retrains")
    sub = add("evaluate", cmd_evaluate, "score a model version on a stored dataset and record it")
    sub.add_argument(
        "--model-version", default="production", help="version or alias (default production)"
    )
    sub.add_argument("--dataset", required=True, help="dataset key")
    sub.add_argument("--batch", required=True, help="batch id recorded in the history")
    sub.add_argument("--role", default="monitor", choices=["test", "monitor", "challenger"])
    sub = add(
        "detect-drift",
        cmd_detect_drift,
        "run the drift tests for an evaluation and log the decision",
    )
    sub.add_argument("--model-version", required=True)
    sub.add_argument("--dataset", required=True, help="the batch's dataset key")
    sub.add_argument("--batch", required=True)
    sub.add_argument(
        "--evaluation-time", required=True, help="time_stamp of the evaluation under test"
    )
    sub = add("select-data", cmd_select_data, "assemble the retraining set for a model's successor")
    sub.add_argument("--model-version", required=True)
    sub = add("promote", cmd_promote, "promote a challenger when it is not worse than the champion")
    sub.add_argument("--challenger", required=True)
    sub.add_argument("--champion", default="production")
    sub.add_argument("--dataset", required=True, help="newest labelled batch's dataset key")
    sub.add_argument("--batch", required=True)

    sub = add("predict", cmd_predict, "score a CSV/Parquet file of any size with a model version")
    sub.add_argument("--data", required=True, help="CSV or Parquet file with the feature columns")
    sub.add_argument("--out", required=True, help="output file: CSV, or Parquet by its suffix")
    sub.add_argument(
        "--model-version", default="production", help="version or alias (default production)"
    )
    sub.add_argument("--batch-rows", type=int, default=65_536, help="rows read at a time")
    sub = add(
        "serve",
        cmd_serve,
        "serve the production model (KServe V1 and V2 REST), following promotions",
    )
    from components.serve.cli_args import add_serve_arguments

    add_serve_arguments(sub)
    sub = add(
        "feedback",
        cmd_feedback,
        "join actual outcomes to served predictions into a labelled batch for lifecycle monitor",
    )
    sub.add_argument(
        "--actuals", required=True, help="CSV/Parquet: request_id, the target, optionally row"
    )
    sub.add_argument("--out", required=True, help="labelled batch: CSV, or Parquet by its suffix")
    sub.add_argument("--model", help="model name (default: the config's)")

    sub = add("train", cmd_train, "run the training pipeline locally on a file")
    sub.add_argument("--data", required=True, help="training file (CSV or Parquet) or store key")
    sub.add_argument("--test", help="test file (default: the training file)")
    sub = add("monitor", cmd_monitor, "run the monitoring pipeline locally on one labelled batch")
    sub.add_argument("--batch-file", required=True)
    sub.add_argument("--batch-id", required=True)
    sub.add_argument(
        "--force",
        action="store_true",
        help="monitor the batch even if it was already monitored for this production version",
    )
    sub = add(
        "scenario",
        cmd_scenario,
        "play a whole scenario: training, then one monitoring run per batch",
    )
    sub.add_argument("name", choices=["course", "diabetes"])
    sub.add_argument("--reset", action="store_true", help="empty the store first")
    sub.add_argument(
        "--no-serve",
        dest="serve",
        action="store_false",
        help="leave out the served segment (serve, log, feedback, retrain, reload in a store of "
        "its own): the scenario's store and table are the same either way",
    )
    sub.add_argument(
        "--report",
        default="report.html",
        help="where to write the HTML report (default report.html)",
    )
    for name in ("train", "monitor", "scenario"):
        commands.choices[name].add_argument(
            "--runner",
            choices=["subprocess", "docker"],
            help="KFP local runner: subprocess (default, or $LIFECYCLE_RUNNER) or docker",
        )

    sub = add(
        "drift", cmd_drift, "the course's drift tests on an evaluation history CSV; prints JSON"
    )
    sub.add_argument(
        "--eval-history", required=True, help="CSV: time_stamp, version, batch, metric, score"
    )
    sub = add(
        "data-drift",
        cmd_data_drift,
        "the drift suite on two CSV/Parquet files; per-column statistics",
    )
    sub.add_argument("--reference", help="reference file (CSV or Parquet)")
    sub.add_argument(
        "--reference-profile",
        help="a reference profile written by --write-profile, in place of --reference",
    )
    sub.add_argument("--current", help="current file (CSV or Parquet)")
    sub.add_argument(
        "--write-profile",
        metavar="FILE",
        help="also write the reference's profile to FILE (.npz), to reuse with "
        "--reference-profile (without --current: only write it)",
    )
    sub.add_argument(
        "--shared-columns",
        action="store_true",
        help="compare the columns both inputs have (default: different columns are an error)",
    )
    sub.add_argument(
        "--correction",
        choices=["bh", "bonferroni", "none"],
        help="multiple-testing control over every p-value test of every column "
        "(default: the config's drift.correction when the --config file sets it, else bh)",
    )
    sub.add_argument("--json", action="store_true", help="print JSON instead of a table")
    add("models", cmd_models, "list models, versions and the production alias")
    add(
        "verify", cmd_verify, "check datasets, models, the alias, records and views for consistency"
    )
    sub = add(
        "cleanup",
        cmd_cleanup,
        "roll back runs that will never commit and remove what interrupted writes left",
    )
    sub.add_argument(
        "--grace",
        type=float,
        default=3600.0,
        help="seconds without a write before an uncommitted run is removed (default 3600)",
    )
    sub.add_argument("--dry-run", action="store_true", help="say what would go, remove nothing")
    sub = add(
        "finalize",
        cmd_finalize,
        "end a run by hand: commit it (SUCCEEDED) or roll it back (FAILED)",
    )
    sub.add_argument("--run-id", required=True)
    sub.add_argument("--status", required=True, choices=["SUCCEEDED", "FAILED"])
    sub = add(
        "export-views",
        cmd_export_views,
        "write the course-format CSV views of the store's histories to a folder",
    )
    sub.add_argument("--to", required=True, help="destination folder")
    sub = add(
        "export-model",
        cmd_export_model,
        "write a model version to a file: a pickle (the course's model_1.0.pkl) or skops",
    )
    sub.add_argument(
        "--version", default="production", help="version or alias (default production)"
    )
    sub.add_argument("--to", required=True, help="the file to write, e.g. model_1.0.pkl")
    sub.add_argument(
        "--format",
        choices=["pickle", "skops"],
        help="file format (default: skops for a .skops file, else pickle)",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        # SIGINT and SIGTERM unwind the command like an error: runs roll back, temp folders go.
        with interrupted_by_signals():
            return args.handler(args)
    except LifecycleError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except Interrupted as exc:
        print(f"interrupted (signal {exc.signum}): stopped, nothing of it kept", file=sys.stderr)
        return exc.exit_code


if __name__ == "__main__":
    raise SystemExit(main())
