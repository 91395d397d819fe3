"""`%sparksword` and `%%sparksword`: load a Spark event log in a notebook and show its panels.

    %load_ext sparksword_nb
    %sparksword                              the application this notebook's SparkSession is running
    %sparksword PATH [--app ID] [-o NAME]    load the log, show the report; -o binds the EventLog
                                             PATH: a path, glob, sample name, $variable or {expression},
                                             s3:// gs:// abfs:// hdfs:// https:// URL, History Server URL
    %sparksword dag | skew STAGE | insights | sql-plan ID | timeline | list | use NAME
    %sparksword playground [--stage ID]      the partition playground: free, or seeded from a stage
    %sparksword watch [PATH] [--every S]     the report of a running application, refreshed while jobs run
    %sparksword compare BEFORE AFTER [-o C]  two runs side by side; -o binds the Comparison
    %sparksword fleet PATH [--engine E] [-o F]  every application under PATH; -o binds the Fleet
    %%sparksword [-o NAME]                   the cell is SQL over the loaded tables -> a DataFrame

Settings: `%config SparkswordMagics.max_dag_nodes = 500` (see `%config SparkswordMagics`). Problems with
the input (missing file, unknown stage) print one line; bad flags give IPython's usage error.
"""
from __future__ import annotations

import os
import re
import shlex
from typing import TYPE_CHECKING, Any

import traitlets
from IPython.core.error import UsageError
from IPython.core.magic import (
    Magics,
    line_cell_magic,
    magics_class,
    no_var_expand,
    output_can_be_silenced,
)
from IPython.core.magic_arguments import argument, magic_arguments, parse_argstring
from IPython.utils.text import DollarFormatter

from .errors import SparkswordError
from .widgets.data import STAGE_METRIC_KEYS

if TYPE_CHECKING:
    import pandas as pd
    from IPython.core.interactiveshell import InteractiveShell

    from .store import EventLog, Session

# Kept in step with widgets.data.STAGE_METRIC_KEYS / TASK_METRIC_KEYS (a test checks); spelled out here
# so loading the extension does not import the widget stack.
# what a stage node can be coloured by: the stage graph's own list
COLOR_BY_CHOICES = STAGE_METRIC_KEYS
TASK_METRIC_CHOICES = ("duration", "run_time", "gc_time", "input", "shuffle_read", "shuffle_write",
                       "spill_memory", "spill_disk")
SUBCOMMANDS = ("dag", "skew", "insights", "sql-plan", "timeline", "list", "use", "playground", "watch", "compare", "fleet")
_TRAILING_SEMICOLON = re.compile(r"\s*;\s*$")


@magics_class
class SparkswordMagics(Magics):
    """The `%sparksword` line/cell magic. One DuckDB session per extension load holds every log loaded."""

    max_dag_nodes = traitlets.Int(300, help="Above this many stages the DAG shows jobs, opened on click.").tag(
        config=True)
    color_by = traitlets.Enum(COLOR_BY_CHOICES, default_value="duration",
                              help="What colours the DAG's stage nodes.").tag(config=True)
    skew_metric = traitlets.Enum(TASK_METRIC_CHOICES, default_value="duration",
                                 help="The task metric the histogram shows first.").tag(config=True)
    cache = traitlets.Bool(True, help="Reuse parsed logs from the user's cache directory.").tag(config=True)
    database = traitlets.Unicode(":memory:", help="DuckDB database of the session (a file keeps it).").tag(
        config=True)
    verbose_errors = traitlets.Bool(False, help="Show full tracebacks instead of one-line errors.").tag(config=True)

    def __init__(self, shell: InteractiveShell | None = None, **kwargs: Any) -> None:
        super().__init__(shell=shell, **kwargs)
        self._session: Session | None = None
        self._logs: dict[str, EventLog] = {}
        self._current: str | None = None
        self._silenced = False
        self._live: list[Any] = []

    # ---- state ---------------------------------------------------------------------------------------
    @property
    def session(self) -> Session:
        """The session holding the logs loaded by this magic (opened on first use)."""
        if self._session is None:
            from .store import Session

            self._session = Session(self.database)
        return self._session

    def close(self) -> None:
        """Stop live reports, close the DuckDB connection and forget the loaded logs."""
        for live in self._live:
            live.stop()
        self._live.clear()
        if self._session is not None:
            self._session.close()
        self._session = None
        self._logs.clear()
        self._current = None

    @property
    def current(self) -> EventLog:
        """The log the subcommands and `%%sparksword` work on (the last loaded, or `use NAME`)."""
        if self._current is None:
            raise SparkswordError("no event log loaded: run %sparksword PATH first")
        return self._logs[self._current]

    def _find(self, name: str) -> str:
        if name in self._logs:
            return name
        matches = [key for key, log in self._logs.items() if log.app_id == name or key.startswith(name)]
        if len(matches) == 1:
            return matches[0]
        loaded = ", ".join(self._logs) or "none"
        if matches:
            raise SparkswordError(f"{name!r} matches several loaded logs: {', '.join(matches)}")
        raise SparkswordError(f"no loaded log named {name!r}; loaded: {loaded}")

    def _log_for(self, app: str | None) -> EventLog:
        return self._logs[self._find(app)] if app else self.current

    # ---- the magic -----------------------------------------------------------------------------------
    @output_can_be_silenced
    @no_var_expand
    @line_cell_magic
    @magic_arguments()
    @argument("command", nargs="?",
              help="an event log PATH to load (file, rolling dir, history dir, glob, sample name, URL, a "
                   "SparkSession variable; none: this notebook's SparkSession), or a subcommand: "
                   "dag, skew STAGE, insights, sql-plan ID, timeline, list, use NAME, playground")
    @argument("args", nargs="*", help="the subcommand's argument: STAGE, ID or NAME")
    @argument("--app", help="with PATH: the application when PATH holds several (name, id or row); "
                            "with a subcommand or a cell: which loaded log (default: the current one)")
    @argument("-o", "--output", metavar="NAME",
              help="bind the result to NAME: the EventLog for PATH, the panel or DataFrame otherwise")
    @argument("--metric", choices=TASK_METRIC_CHOICES, help="skew: the task metric to show")
    @argument("--attempt", type=int, help="skew: the stage attempt (default: the latest)")
    @argument("--color-by", choices=COLOR_BY_CHOICES, help="dag: what colours the stages")
    @argument("--stage", type=int, help="playground: start from this reduce stage of the log (default: free mode)")
    @argument("--every", type=float, default=2.0, metavar="SECONDS",
              help="watch: how often to look at the log (default: %(default)s)")
    @argument("--engine", choices=("duckdb", "spark"), default="duckdb",
              help="fleet: worker processes on this machine, or Spark (the kernel's SparkSession, else a local one)")
    def sparksword(self, line: str = "", cell: str | None = None) -> Any:
        """Load a Spark event log and show its stage DAG, task skew and insights; SQL in cell form.

        %sparksword                             the application this notebook's SparkSession runs
        %sparksword PATH [--app ID] [-o NAME]   load and show the report (-o binds the EventLog);
                                                $var and {expr} expand as in IPython's other magics
        %sparksword dag | skew STAGE | insights | sql-plan ID | timeline | list | use NAME
        %sparksword playground [--stage ID]     partition playground (free; seeded from a stage with --stage)
        %sparksword watch [PATH] [--every S]    live report of the running SparkSession (or PATH) until it ends
        %sparksword compare BEFORE AFTER        two runs: loaded logs' names, EventLog variables, paths
        %sparksword fleet PATH [--engine E]     every application under a folder, glob, remote prefix or
                                                History Server: costliest findings, idle cores, slower jobs
        %%sparksword [-o NAME] [--app NAME]     the cell is SQL over the loaded tables -> DataFrame

        A trailing `;` hides the output. Settings: `%config SparkswordMagics`.
        """
        stripped = _TRAILING_SEMICOLON.sub("", line)
        args = parse_argstring(self.sparksword, self._expand(stripped))
        # IPython's argument splitter keeps the quotes that group a path with spaces; the path has none
        args.command, args.app = _unquote(args.command), _unquote(args.app)
        args.args = [_unquote(a) for a in args.args]
        # `%sparksword PATH;` only loads: the report it would hide is not worth building
        self._silenced = cell is None and stripped != line
        try:
            result = self._run(args, cell)
        except SparkswordError as err:
            if self.verbose_errors:
                raise RuntimeError(str(err)) from err
            raise
        if args.output and self.shell is not None and not (isinstance(result, tuple) and result[1] is None):
            self.shell.user_ns[args.output] = result[1] if isinstance(result, tuple) else result
        return result[0] if isinstance(result, tuple) else result

    def _run(self, args: Any, cell: str | None) -> Any:
        if cell is not None:
            if args.command or args.args:
                raise UsageError("%%sparksword takes only -o NAME and --app NAME; the cell is the SQL")
            return self._sql(cell, args.app)
        if args.command is None:
            from .ingest.spark_session import active_spark

            spark = active_spark()
            if spark is None:
                raise UsageError("give an event log PATH or a subcommand (see %sparksword?); with no PATH it loads "
                                 "the application of this kernel's SparkSession, and none is running")
            return self._load(spark, args.app, args.output)
        if args.command not in SUBCOMMANDS:
            if args.args:
                raise UsageError(f"unexpected arguments after the path: {' '.join(args.args)} "
                                 "(quote a path that contains spaces)")
            target = self._user_value(args.command)
            return self._load(target if target is not None else args.command, args.app, args.output)
        handler = getattr(self, "_cmd_" + args.command.replace("-", "_"))
        return handler(args)

    def _expand(self, line: str) -> str:
        """`$name` and `{expression}` replaced by their values in the user's namespace, as IPython does for other
        line magics, each value quoted for the argument parser (a path with spaces stays one argument); a line
        whose expansion fails is left as written (IPython's rule)."""
        if self.shell is None or ("$" not in line and "{" not in line):
            return line
        try:
            return _QuotingFormatter().vformat(line, args=[], kwargs=self.shell.user_ns)
        except Exception:  # noqa: BLE001 - IPython's var_expand keeps the line on any failure too
            return line

    def _user_value(self, word: str) -> Any:
        """The SparkSession or SparkContext a bare variable name holds (None for anything else)."""
        if self.shell is None or not word.isidentifier():
            return None
        from .ingest.spark_session import is_spark_handle

        value = self.shell.user_ns.get(word)
        return value if is_spark_handle(value) else None

    def _load(self, target: Any, app: str | None, output: str | None = None) -> Any:
        from .errors import SeveralApplications

        if isinstance(target, str):
            target = os.path.expanduser(target)  # a URL never starts with ~: it stays as it is
        try:
            log = self.session.load(target, app=app, cache=self.cache)
        except SeveralApplications as several:
            from .widgets.app_picker import AppPicker

            def load_picked(picked: str) -> Any:
                report, log = self._load(target, picked)
                if output and self.shell is not None:
                    self.shell.user_ns[output] = log
                return report

            # a folder of applications is a choice: the table, each row opening its report; -o binds on the click
            return AppPicker(several.table(), load_picked, where=str(several.path)), None
        self._current = self._remember(log)
        if self._silenced:
            return None, log
        from .widgets import Report

        report = Report(log, color_by=self.color_by, skew_metric=self.skew_metric, max_nodes=self.max_dag_nodes)
        return report, log

    def _remember(self, log: EventLog) -> str:
        """Keep `log` among the loaded ones (`%sparksword list`); returns its name there."""
        name = log.app_id + (f"/{log.attempt_id}" if log.attempt_id else "")
        self._logs[name] = log
        return name

    def _sql(self, cell: str, app: str | None) -> pd.DataFrame:
        query = cell.strip()
        if not query:
            raise UsageError("%%sparksword needs SQL in the cell")
        return self._log_for(app).sql(query).df()

    @staticmethod
    def _one_arg(args: Any, what: str, *, integer: bool = False) -> Any:
        if len(args.args) != 1:
            raise UsageError(f"%sparksword {args.command} needs one {what}")
        value = args.args[0]
        if integer:
            try:
                return int(value)
            except ValueError:
                raise UsageError(f"%sparksword {args.command}: {what} must be an integer, not {value!r}") from None
        return value

    def _cmd_dag(self, args: Any) -> Any:
        self._no_args(args)
        from .widgets import StageDag

        return StageDag(self._log_for(args.app), color_by=args.color_by or self.color_by,
                        max_nodes=self.max_dag_nodes)

    def _cmd_skew(self, args: Any) -> Any:
        stage = self._one_arg(args, "STAGE id", integer=True)
        from .widgets import SkewHistogram

        return SkewHistogram(self._log_for(args.app), stage, metric=args.metric or self.skew_metric,
                             attempt=args.attempt)

    def _cmd_insights(self, args: Any) -> Any:
        self._no_args(args)
        from .widgets import InsightsPanel

        return InsightsPanel(self._log_for(args.app))

    def _cmd_sql_plan(self, args: Any) -> Any:
        execution_id = self._one_arg(args, "SQL execution ID", integer=True)
        from .widgets import SqlPlan

        return SqlPlan(self._log_for(args.app), execution_id)

    def _cmd_timeline(self, args: Any) -> Any:
        self._no_args(args)
        from .widgets.timeline import timeline_figure

        return timeline_figure(self._log_for(args.app))

    def _cmd_list(self, args: Any) -> pd.DataFrame:
        self._no_args(args)
        import pandas as pd

        rows = []
        for name, log in self._logs.items():
            app = log.sql("SELECT name, spark_version, duration_ms FROM applications").fetchall()
            app_name, version, duration = app[0] if app else (None, None, None)
            rows.append({"name": name, "current": name == self._current, "app_id": log.app_id,
                         "attempt_id": log.attempt_id, "app_name": app_name, "spark_version": version,
                         "duration_ms": duration})
        return pd.DataFrame(rows, columns=["name", "current", "app_id", "attempt_id", "app_name",
                                           "spark_version", "duration_ms"])

    def _cmd_use(self, args: Any) -> EventLog:
        self._current = self._find(self._one_arg(args, "NAME (see %sparksword list)"))
        return self._logs[self._current]

    def _cmd_playground(self, args: Any) -> Any:
        self._no_args(args)
        from .widgets import Playground

        # free mode needs no log (it teaches); --stage seeds it from a stage of the current (or --app) log
        if args.stage is None:
            return Playground()
        return Playground.from_log(self._log_for(args.app), stage=args.stage)

    def _cmd_watch(self, args: Any) -> Any:
        if len(args.args) > 1:
            raise UsageError("%sparksword watch takes at most one PATH")
        if args.args:
            target = self._user_value(args.args[0]) or os.path.expanduser(args.args[0])
        else:
            from .ingest.spark_session import active_spark

            target = active_spark()
            if target is None:
                raise UsageError("%sparksword watch: no SparkSession is running in this kernel; give a PATH")
        if args.every <= 0:
            raise UsageError("%sparksword watch: --every must be a positive number of seconds")
        from .widgets import Report
        from .widgets.live import LiveReport

        live = LiveReport(target, app=args.app, every_s=args.every, report=lambda log: Report(
            log, color_by=self.color_by, skew_metric=self.skew_metric, max_nodes=self.max_dag_nodes))
        if live.error:
            raise SparkswordError(live.error)
        self._live.append(live)
        return live

    def _cmd_compare(self, args: Any) -> tuple[Any, Any]:
        if len(args.args) != 2:
            raise UsageError("%sparksword compare takes two runs: BEFORE AFTER (loaded logs' names, EventLog "
                             "variables, paths or sample names)")
        before, after = (self._run_log(word) for word in args.args)
        comparison = before.compare(after)
        from .widgets.compare_view import CompareView

        return CompareView(comparison), comparison

    def _cmd_fleet(self, args: Any) -> tuple[Any, Any]:
        path = self._one_arg(args, "PATH (a history folder, glob, remote prefix or History Server URL)")
        from .ingest.spark_session import active_spark
        from .store import fleet
        from .widgets.fleet_view import FleetView

        result = fleet(os.path.expanduser(path), engine=args.engine,
                       spark=active_spark() if args.engine == "spark" else None)
        where = {r["key"]: (r["path"], r["app"]) for r in result.apps.to_dict("records")}

        def open_app(key: str) -> Any:
            path, app = where[key]
            return self._load(path, app)[0]

        return FleetView(result, open_app), result

    def _run_log(self, word: str) -> EventLog:
        """A run named by a loaded log's name, a variable holding an EventLog (or SparkSession), or a path."""
        from .store import EventLog

        value = self.shell.user_ns.get(word) if self.shell is not None and word.isidentifier() else None
        if isinstance(value, EventLog):
            return value
        if any(word == key or word == log.app_id for key, log in self._logs.items()):
            return self._logs[self._find(word)]
        target = self._user_value(word)
        log = self.session.load(target if target is not None else os.path.expanduser(word), cache=self.cache)
        self._remember(log)
        return log

    @staticmethod
    def _no_args(args: Any) -> None:
        if args.args:
            raise UsageError(f"%sparksword {args.command} takes no argument, got: {' '.join(args.args)}")


class _QuotingFormatter(DollarFormatter):
    """IPython's `$name` / `{expression}` expansion, each value quoted for the argument parser."""

    def format_field(self, value: Any, format_spec: str) -> str:
        return shlex.quote(super().format_field(value, format_spec))


def _unquote(word: str | None) -> str | None:
    if word and len(word) >= 2 and word[0] == word[-1] and word[0] in "'\"":
        return word[1:-1]
    return word


_loaded: dict[int, SparkswordMagics] = {}


def load_ipython_extension(ipython: InteractiveShell) -> None:
    """`%load_ext sparksword_nb`: register %sparksword / %%sparksword."""
    magics = SparkswordMagics(ipython)
    ipython.register_magics(magics)
    _loaded[id(ipython)] = magics


def unload_ipython_extension(ipython: InteractiveShell) -> None:
    """`%unload_ext sparksword_nb`: close the DuckDB connection and remove the magics."""
    magics = _loaded.pop(id(ipython), None)
    if magics is not None:
        magics.close()
        if magics in ipython.configurables:
            ipython.configurables.remove(magics)  # type: ignore[arg-type]  # IPython lists Configurables
    for kind in ("line", "cell"):
        ipython.magics_manager.magics[kind].pop("sparksword", None)
    ipython.magics_manager.registry.pop(SparkswordMagics.__name__, None)
