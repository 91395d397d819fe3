"""`sparksword`: the terminal and CI face of the package.

Every problem with the user's input ends as one line on stderr and exit status 2, never a traceback
(an internal error: one line and status 3; SPARKSWORD_DEBUG=1 shows its traceback). Text from a log is
printed through `terminal_safe`, so escape sequences in it cannot drive the terminal.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from .errors import SeveralApplications, SparkswordError
from .text import clip, fit_to_width, human_bytes, human_ms, plural, terminal_safe, terminal_width

# The longest text from a log one summary field shows.
_FIELD_LIMIT = 200


def summary_text(log, width: int = 100) -> str:
    """A short plain-text overview of one loaded application, `width` columns wide."""
    # Strings are cut in SQL: a log's 60 MB app name never becomes a Python string here.
    cut = _FIELD_LIMIT + 1
    a = log.rows(
        f"""SELECT left(name, {cut}) AS name, left(app_id, {cut}) AS app_id, left(attempt_id, {cut}) AS attempt_id,
                   left(spark_version, {cut}) AS spark_version, left("user", {cut}) AS "user", completed, duration_ms
            FROM applications"""
    )[0]
    counts = log.sql(
        """SELECT (SELECT count(*) FROM jobs), (SELECT count(*) FROM stages),
                  (SELECT count(*) FROM tasks), (SELECT count(*) FROM executors),
                  (SELECT count(*) FROM tasks WHERE status = 'FAILED'),
                  (SELECT count(*) FROM jobs WHERE status = 'FAILED')"""
    ).fetchall()[0]
    jobs, stages, tasks, executors, failed_tasks, failed_jobs = counts
    state = "completed" if a["completed"] else "in progress / never ended"
    account = log.time_account()
    lines = [
        f"Application  {terminal_safe(a['name'], _FIELD_LIMIT)}  ({terminal_safe(a['app_id'], _FIELD_LIMIT)}"
        f"{' attempt ' + terminal_safe(a['attempt_id'], _FIELD_LIMIT) if a['attempt_id'] else ''})",
        f"Spark        {terminal_safe(log.runtime() or 'unknown', _FIELD_LIMIT)}   "
        f"user {terminal_safe(a['user'], _FIELD_LIMIT)}   {state}",
        f"Duration     {human_ms(account.duration_ms)}"
        + ("" if account.ended else "   (no application end: measured to the last event)"),
        f"Executors    {executors}   jobs {jobs} ({failed_jobs} failed)   stages {stages}   "
        f"tasks {tasks} ({failed_tasks} failed)",
        "",
        *time_breakdown_text(account),
    ]
    top = log.sql(
        """SELECT stage_id, stage_attempt_id, status, num_tasks, completed_ms - submitted_ms AS wall_ms,
                  executor_run_time_ms, shuffle_read_bytes AS shuffle_read,
                  shuffle_write_bytes, disk_bytes_spilled, left(name, 61) AS name
           FROM stages WHERE submitted_ms IS NOT NULL
           ORDER BY wall_ms DESC NULLS LAST, stage_id LIMIT 5"""
    ).fetchall()
    if top:
        lines.append("")
        lines.append("Longest stages")
        lines.append(f"  {'stage':>7} {'status':<9} {'tasks':>6} {'wall':>9} {'shuffle read':>13} "
                     f"{'shuffle write':>13} {'spill':>9}  name")
        for sid, att, status, ntasks, wall, _run, sread, swrite, spill, name in top:
            label = f"{sid}.{att}"
            row = (f"  {label:>7} {status:<9} {ntasks or 0:>6} {human_ms(wall):>9} {human_bytes(sread):>13} "
                   f"{human_bytes(swrite):>13} {human_bytes(spill):>9}  ")
            # the name column shrinks to what the terminal leaves
            lines.append(row + clip(terminal_safe(name, 60), max(width - len(row), 12)))
    for skipped in log.skipped:
        lines.append(f"note: skipped {terminal_safe(skipped, 2 * _FIELD_LIMIT)}")
    return fit_to_width("\n".join(lines), width)


_BAR_WIDTH = 24


def time_breakdown_text(account) -> list[str]:
    """'Where the time went': the run's parts by kind with a bar each, then what the cores did."""
    if account.duration_ms <= 0:
        return ["Where the time went: the log records no measurable wall time"]
    lines = ["Where the time went"]
    for kind, ms, n in account.by_kind():
        share = ms / account.duration_ms
        label = account.kind_label(kind, n)
        bar = "#" * round(share * _BAR_WIDTH)
        lines.append(f"  {label:<30} {human_ms(ms):>9} {share * 100:>4.0f}%  {bar}")
    c = account.cores
    if c.allocated_core_ms:
        lines.append(f"  cores: {c.cores} task slots; tasks ran {c.busy_share * 100:.0f}% of their core time "
                     f"({human_ms(c.busy_core_ms)} of {human_ms(c.allocated_core_ms)}), "
                     f"{human_ms(c.idle_in_driver_parts_core_ms)} of it idle while no job ran")
    if account.interactive:
        lines.append("  (an interactive session: time outside jobs is mostly a person between commands)")
    return lines


def summary_json(log) -> dict:
    """The summary as data: duration_ms and the time breakdown whose ms add up to it, with jobs and cores."""
    account = log.time_account()
    a = log.rows("SELECT name, spark_version, completed FROM applications")[0]
    return {
        "app_id": log.app_id, "attempt_id": log.attempt_id or None, "name": a["name"],
        "spark_version": a["spark_version"], "completed": bool(a["completed"]),
        "duration_ms": account.duration_ms, "ended": account.ended, "interactive": account.interactive,
        "time_breakdown": [p.model_dump() for p in account.parts],
        "jobs": [j.model_dump() for j in account.jobs],
        "cores": account.cores.model_dump(),
    }


def _storage_options(items: list[str] | None) -> dict[str, str]:
    options = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise SparkswordError(f"--storage-option takes key=value, got {item.split('=')[0]!r}")
        options[key.strip()] = value
    return options


def _load(args: argparse.Namespace):
    from .store import Session

    return Session().load(args.log, app=args.app, cache=not args.no_cache,
                          storage_options=_storage_options(args.storage_option))


def applications_text(table, width: int = 100) -> str:
    """A folder's applications as a terminal table: the row number and `app` are what --app takes."""
    rows = []
    app_width = min(max([len(str(a)) for a in table["app"]] + [3]), 34)
    for index, row in table.iterrows():
        start = row["start"].strftime("%Y-%m-%d %H:%M") if not _missing(row["start"]) else "?"
        duration = human_ms(None if _missing(row["duration_ms"]) else int(row["duration_ms"]))
        size = human_bytes(None if _missing(row["size_bytes"]) else int(row["size_bytes"]))
        app = clip(terminal_safe(row["app"], 200), app_width)
        head = f"{index:>4}  {app:<{app_width}} {start:<16} {duration:>8} {row['status']:<12} {size:>9}  "
        name = terminal_safe(row["name"] if isinstance(row["name"], str) else "", _FIELD_LIMIT)
        rows.append(head + clip(name, max(width - len(head), 8)))
    header = f"{'row':>4}  {'app':<{app_width}} {'start (UTC)':<16} {'duration':>8} {'status':<12} {'size':>9}  name"
    return fit_to_width("\n".join([header, *rows]), width)


def _missing(value) -> bool:
    import pandas as pd

    return bool(pd.isna(value))


def _cmd_apps(args: argparse.Namespace) -> int:
    from .store import applications_in

    table = applications_in(args.log, storage_options=_storage_options(args.storage_option))
    if args.json:
        print(table.to_json(orient="records", date_format="iso", indent=2))
    else:
        print(applications_text(table, terminal_width()))
    return 0


def _cmd_summary(args: argparse.Namespace) -> int:
    log = _load(args)
    print(json.dumps(summary_json(log), indent=2) if args.json else summary_text(log, terminal_width()))
    return 0


def _cmd_rest(args: argparse.Namespace) -> int:
    from .rest import answer
    from .store import Session

    session = Session()
    target = Path(args.log)
    if args.app is None and (target.is_dir() and not target.name.startswith("eventlog_v2_")):
        session.load_all(args.log, cache=not args.no_cache)
    else:
        session.load(args.log, app=args.app, cache=not args.no_cache,
                     storage_options=_storage_options(args.storage_option))
    print(json.dumps(answer(session, args.api_path), indent=2))
    return 0


def _cmd_insights(args: argparse.Namespace) -> int:
    from .detectors.listing import format_insights_text

    log = _load(args)
    found = log.insights()
    if args.json:
        print(json.dumps([i.model_dump(mode="json") for i in found], indent=2))
    else:
        from .detectors.accounting import explained_time

        print(format_insights_text(found, explained=explained_time(found, log.time_account()).sentence(),
                                   width=terminal_width()))
    return 0


def _cmd_samples(args: argparse.Namespace) -> int:
    from . import samples
    from .store import Session

    width = terminal_width()
    session = Session()
    for sample in samples.list():
        lines = [sample.name, f"    {sample.lesson}"]
        # what the log itself shows, measured: its most costly finding beyond the start-up time
        found = [i for i in session.load(sample.path, cache=not args.no_cache).insights() if i.type != "driver_gaps"]
        if found:
            lines.append(f"    the log shows: {terminal_safe(found[0].title)}")
        lines.append(f"    {terminal_safe(sample.path)}")
        print(fit_to_width("\n".join(lines), width))
    return 0


def _cmd_demo(args: argparse.Namespace) -> int:
    from . import samples
    from .store import Session

    name = args.sample
    log = Session().load(samples.path(name), cache=not args.no_cache)
    width = terminal_width()
    print(fit_to_width(f"sparksword demo: the bundled sample {name!r} ({samples.path(name)})\n", width))
    print(summary_text(log, width))
    from .detectors.accounting import explained_time
    from .detectors.listing import format_insights_text
    from .html_report import write_report

    found = log.insights()
    print("\nWhat made it slow (top findings)")
    print(format_insights_text(found[: args.top], explained=explained_time(found, log.time_account()).sentence(),
                               width=width))

    written = write_report(log, args.report)
    print(fit_to_width(f"\nReport: {terminal_safe(written.resolve())}\n        one HTML file with the stage DAG, "
                       "task histograms and findings; open it in a browser (it works offline)", width))
    print(fit_to_width(_tutorials_hint(), width))
    return 0


def _tutorials_hint() -> str:
    """How to open the teaching notebooks: they live in the repository's notebooks/ folder."""
    import importlib.util

    folder = Path(__file__).resolve().parent.parent / "notebooks"
    first = folder / "01_getting_started.ipynb"
    lines = ["\nNext: `sparksword samples` lists every bundled lesson; in Jupyter: %load_ext sparksword_nb"]
    if first.is_file():
        try:
            shown = first.relative_to(Path.cwd())
        except ValueError:
            shown = first
        lessons = len(list(folder.glob("[0-9][0-9]_*.ipynb")))
        lines.append(f"Tutorials ({lessons} notebooks in {terminal_safe(folder)}): jupyter lab {terminal_safe(shown)}")
    else:
        lines.append("Tutorials: the notebooks/ folder of the sparksword_nb repository, e.g. "
                     "jupyter lab notebooks/01_getting_started.ipynb")
    if importlib.util.find_spec("jupyterlab") is None:
        lines.append("(JupyterLab is not installed in this environment: pip install jupyterlab)")
    return "\n".join(lines)


def _cmd_report(args: argparse.Namespace) -> int:
    from .html_report import write_report

    log = _load(args)
    comparison = None
    if args.compare:
        comparison = log.compare(log.session.load(args.compare, cache=not args.no_cache,
                                                  storage_options=_storage_options(args.storage_option)))
    written = write_report(log, args.output, comparison=comparison)
    print(f"wrote {terminal_safe(written)}: open it in a browser (self-contained, works offline)")
    return 0


def _cmd_whatif(args: argparse.Namespace) -> int:
    from .simulate import whatif
    from .simulate.listing import format_estimate

    settings = {}
    for item in args.set or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise SparkswordError(f"--set takes key=value, got {item!r}")
        settings[key.strip()] = value.strip()
    log = _load(args)
    estimate = whatif(log, args.stage, settings)
    print(estimate.model_dump_json(indent=2) if args.json else format_estimate(estimate))
    return 0


def _cmd_compare(args: argparse.Namespace) -> int:
    from .store import Session

    session = Session()
    options = _storage_options(args.storage_option)
    before = session.load(args.before, app=args.app_before, cache=not args.no_cache, storage_options=options)
    after = session.load(args.after, app=args.app_after, cache=not args.no_cache, storage_options=options)
    comparison = before.compare(after)
    print(json.dumps(comparison.to_json(), indent=2) if args.json else comparison.text(terminal_width()))
    return 0


def _cmd_fleet(args: argparse.Namespace) -> int:
    from .fleets.report import dumps
    from .store import fleet

    result = fleet(args.log, engine=args.engine, store=args.store, workers=args.workers,
                   storage_options=_storage_options(args.storage_option), progress=sys.stderr.isatty())
    try:
        if args.output:
            result.write_html(args.output)
        print(dumps(result) if args.json else result.text(terminal_width()))
        if args.output and not args.json:
            print(f"wrote {terminal_safe(args.output)}")
    finally:
        result.close()
    return 0


def _cmd_cache(args: argparse.Namespace) -> int:
    from .store import cache_info, clear_cache

    if args.action == "clear":
        downloaded = cache_info()["downloaded_files"]
        removed = clear_cache()
        print(f"removed {plural(removed, 'cached parse')}"
              + (f" and {plural(downloaded, 'downloaded file')} of remote logs" if downloaded else "")
              + f" from {terminal_safe(cache_info()['directory'])}")
        return 0
    info = cache_info()
    print(f"cache directory  {terminal_safe(info['directory'])}\n"
          f"parsed logs      {info['files']}, {human_bytes(info['bytes'])} of at most {human_bytes(info['max_bytes'])} "
          "(SPARKSWORD_CACHE_MAX_BYTES; the least recently used go first)\n"
          f"remote logs      {info['downloaded_files']} downloaded files, {human_bytes(info['downloaded_bytes'])} "
          "(copies of s3://, abfs://, History Server logs; fetched again only when they change)")
    return 0


def _cmd_bench(args: argparse.Namespace) -> int:
    from .bench import run_benchmark, run_fleet_benchmark, run_live_benchmark, run_profile

    if args.profile:
        return run_profile(copies=args.copies or 9, source=args.source, workdir=args.workdir)
    if args.fleet:
        return run_fleet_benchmark(apps=args.fleet, workdir=args.workdir, spark=not args.no_spark)
    if args.live:
        return run_live_benchmark(copies=args.copies or 1, source=args.source, workdir=args.workdir)
    return run_benchmark(copies=args.copies or 9, source=args.source, workdir=args.workdir, big_copies=args.big,
                         shs=args.shs)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the `sparksword` command."""
    parser = argparse.ArgumentParser(prog="sparksword", description="Understand a Spark application from its event log.")
    sub = parser.add_subparsers(dest="command", required=True)

    def with_log(p: argparse.ArgumentParser, *, one: bool = True) -> argparse.ArgumentParser:
        p.add_argument("log", help="event log: file, eventlog_v2_* directory, history directory, glob, sample name, "
                                   "s3:// gs:// abfs:// hdfs:// https:// URL or History Server URL")
        if one:
            p.add_argument("--app", help="which application, when the path holds several: its name, id or row "
                                         "in `sparksword apps PATH`")
            p.add_argument("--no-cache", action="store_true", help="parse again even if a cached copy exists")
        p.add_argument("--storage-option", action="append", metavar="KEY=VALUE",
                       help="an fsspec option of a remote store, e.g. anon=true (repeatable)")
        return p

    apps = with_log(sub.add_parser("apps", help="the applications a folder, remote prefix or History Server holds"),
                    one=False)
    apps.add_argument("--json", action="store_true", help="print them as JSON records")
    apps.set_defaults(func=_cmd_apps)

    summ = with_log(sub.add_parser("summary", help="overview of an application: where the time went, longest stages"))
    summ.add_argument("--json", action="store_true", help="print duration_ms, time_breakdown, jobs and cores as JSON")
    summ.set_defaults(func=_cmd_summary)
    rest = with_log(sub.add_parser("rest", help="answer a Spark History Server REST path as JSON"))
    rest.add_argument("api_path", help="e.g. applications/<app-id>/stages")
    rest.set_defaults(func=_cmd_rest)
    ins = with_log(sub.add_parser("insights", help="what made the application slow"))
    ins.add_argument("--json", action="store_true", help="print the insights as JSON")
    ins.set_defaults(func=_cmd_insights)
    rep = with_log(sub.add_parser("report", help="write a self-contained offline HTML report"))
    rep.add_argument("-o", "--output", default="sparksword-report.html", metavar="FILE",
                     help="the HTML file to write (default: %(default)s)")
    rep.add_argument("--compare", metavar="OTHER", help="add a comparison with another run (its log, as LOG)")
    rep.set_defaults(func=_cmd_report)
    cmp_ = sub.add_parser("compare", help="two runs: settings that differ, stages matched by what they do, "
                                          "changes beyond run-to-run noise")
    cmp_.add_argument("before", help="the first run's event log (any LOG form: path, sample name, URL)")
    cmp_.add_argument("after", help="the second run's event log")
    cmp_.add_argument("--app-before", help="which application of BEFORE, when it holds several")
    cmp_.add_argument("--app-after", help="which application of AFTER, when it holds several")
    cmp_.add_argument("--no-cache", action="store_true", help="parse again even if a cached copy exists")
    cmp_.add_argument("--storage-option", action="append", metavar="KEY=VALUE", help="an fsspec option (repeatable)")
    cmp_.add_argument("--json", action="store_true", help="print the comparison as JSON")
    cmp_.set_defaults(func=_cmd_compare)
    wi = with_log(sub.add_parser("whatif", help="estimate a reduce stage under other settings"))
    wi.add_argument("--stage", type=int, required=True, help="the reduce stage to start from")
    wi.add_argument("--set", action="append", metavar="KEY=VALUE",
                    help="a Spark setting to try, e.g. spark.sql.shuffle.partitions=64 (repeatable)")
    wi.add_argument("--json", action="store_true", help="print the estimate as JSON")
    wi.set_defaults(func=_cmd_whatif)
    smp = sub.add_parser("samples", help="list the bundled real event logs and what each one shows")
    smp.add_argument("--no-cache", action="store_true", help="parse again even if a cached copy exists")
    smp.set_defaults(func=_cmd_samples)
    demo = sub.add_parser("demo", help="load a bundled real log and show what it teaches")
    demo.add_argument("--sample", default="skewed_join", help="which bundled sample (see `sparksword samples`)")
    demo.add_argument("--top", type=int, default=5, help="how many findings to show")
    demo.add_argument("--no-cache", action="store_true", help="parse again even if a cached copy exists")
    demo.add_argument("--report", default="sparksword-demo-report.html", metavar="FILE",
                      help="where to write the HTML report (default: %(default)s in the current directory)")
    demo.set_defaults(func=_cmd_demo)
    cache = sub.add_parser("cache", help="where parsed logs are cached, how much they take; clear them")
    cache.add_argument("action", choices=("info", "clear"), nargs="?", default="info")
    cache.set_defaults(func=_cmd_cache)
    flt = with_log(sub.add_parser("fleet", help="every application under a folder, glob, remote prefix or History "
                                                 "Server: costliest findings, idle core-hours, jobs that got slower"),
                   one=False)
    flt.add_argument("--engine", choices=("duckdb", "spark"), default="duckdb",
                     help="duckdb: worker processes on this machine (default); spark: one Spark task per application "
                          "(a local[*] session, or spark-submit's)")
    flt.add_argument("--workers", type=int, help="duckdb engine: worker processes (default: the cores, at most 4)")
    flt.add_argument("--store", help="the fleet's DuckDB file (default: one per path in the cache directory); a "
                                     "second run reads only new and changed logs")
    flt.add_argument("--json", action="store_true", help='JSON: {"apps": [{"app_id", "name", "duration_ms", '
                                                         '"findings": [type, ...], ...}], ...}')
    flt.add_argument("-o", "--output", metavar="FLEET.html", help="also write an offline HTML page of the fleet")
    flt.set_defaults(func=_cmd_fleet)
    bench = sub.add_parser("bench", help="measure load speed on a large log built from a bundled one")
    bench.add_argument("--copies", type=int, help="how many times to repeat the source log (default: 9; --live: 1)")
    bench.add_argument("--big", type=int, default=0, metavar="COPIES",
                       help="also load a log of this many copies (45: 5.2 GB, minutes to build) for its time and memory")
    bench.add_argument("--live", action="store_true",
                       help="instead: refresh a live report while a ~115 MB log grows in 8 steps")
    bench.add_argument("--shs", action="store_true",
                       help="also time the real History Server replaying the same log (needs pyspark and Java)")
    bench.add_argument("--fleet", type=int, metavar="APPS",
                       help="instead: a fleet of this many real logs on DuckDB and on Spark local[2] (e.g. 200)")
    bench.add_argument("--no-spark", action="store_true", help="--fleet: leave out the Spark engine")
    bench.add_argument("--profile", action="store_true",
                       help="instead: where one load's time goes, statement by statement, beside the floor")
    bench.add_argument("--source", help="uncompressed single-file source log (default: the bundled many_tasks)")
    bench.add_argument("--workdir", help="where to write the big log (default: a temp dir)")
    bench.set_defaults(func=_cmd_bench)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `sparksword` console command."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except SeveralApplications as several:
        # a folder of applications: show them, then say how to pick one
        print(applications_text(several.table(), terminal_width()), file=sys.stderr)
        print(f"sparksword: {terminal_safe(several.path)}: holds {plural(len(several.names), 'application')}; "
              "choose one with --app (its app, id or row above)", file=sys.stderr)
        return 2
    except SparkswordError as err:
        # The message may quote a path or text from a log: escaped, it cannot drive the terminal.
        print(f"sparksword: {terminal_safe(err)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `sparksword ... | head`: the reader has gone, nothing to report
        sys.stderr.close()
        return 0
    except Exception as err:  # a bug, not the input's fault: still one line, the traceback on request
        if os.environ.get("SPARKSWORD_DEBUG"):
            raise
        print(
            f"sparksword: internal error ({type(err).__name__}: {terminal_safe(err, _FIELD_LIMIT)}); "
            "please report it; SPARKSWORD_DEBUG=1 shows the traceback",
            file=sys.stderr,
        )
        return 3


if __name__ == "__main__":
    sys.exit(main())
