"""The command line: argv -> strings -> registry/config -> runner -> report.

Every LimitlabError becomes one line `error: ...` and exit code 2 (`--debug` shows the traceback);
a study that crashed is in the report, and the exit code is then 1.
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from limitlab.errors import LimitlabError


def default_jobs() -> int:
    """Tasks in parallel by default: every core, up to 4 (each worker holds its own torch)."""
    return max(1, min(os.cpu_count() or 1, 4))


def _positive(name: str):
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not an integer; expected e.g. {name} 2") from None
        if value < 1:
            raise argparse.ArgumentTypeError(f"{value}; expected an integer >= 1")
        return value
    return parse


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage mistake is one `error:` line and exit 2 like every other bad input."""

    def error(self, message: str) -> None:  # type: ignore[override]
        print(f"error: {message} (see limitlab {self.prog.split(' ', 1)[-1] if ' ' in self.prog else ''} --help)"
              .replace("  ", " "), file=sys.stderr)
        sys.exit(2)


def _execution_options(r: argparse.ArgumentParser) -> None:
    """The options `run` and `sweep` share."""
    r.add_argument("--preset", default="default", help="tiny | default | full (default: default)")
    r.add_argument("--set", dest="sets", action="append", default=[], metavar="KEY=VALUE",
                   help="override a config value (KEY or STUDY.KEY); repeatable")
    r.add_argument("--config", type=Path, help="a TOML or JSON file of overrides")
    r.add_argument("--seed", type=int, default=0, help="the first seed (default 0)")
    r.add_argument("--seeds", type=_positive("--seeds"), default=None,
                   help="seeds per study (default: the preset's: tiny 1, default 3, full 5); each seed is judged")
    r.add_argument("--out", type=Path, default=Path("runs"), help="folder of runs (default: runs)")
    r.add_argument("--jobs", type=_positive("--jobs"), default=None,
                   help=f"tasks in parallel, also the cap on Ray tasks in flight (default: the cores, up to 4; "
                        f"here {default_jobs()})")
    r.add_argument("--executor", choices=("local", "ray"), default="local", help="where tasks run (default local)")
    r.add_argument("--ray-address", metavar="HOST:PORT", help="the Ray cluster (default: $RAY_ADDRESS, else a "
                                                              "local Ray started for the run)")
    r.add_argument("--resume", nargs="?", const="", default=None, metavar="DIR",
                   help="continue the newest run with the same studies, preset, seeds and settings (or run DIR), "
                        "skipping what finished")
    r.add_argument("--threads", type=_positive("--threads"), default=1,
                   help="torch threads per task (default 1: these models are small, and a second thread buys "
                        "about 15%% on an idle machine but costs several times over on a busy one; use --jobs)")
    r.add_argument("--no-cache", action="store_true", help="retrain every model")


def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog="limitlab", description="The limitations of deep learning, measured.")
    p.add_argument("--debug", action="store_true", help="show tracebacks")
    p.add_argument("--version", action="version", version=f"limitlab {_version()}")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)
    sub.add_parser("list", help="list the studies: id, chapter, claim")
    r = sub.add_parser("run", help="run studies and write a report")
    r.add_argument("ids", nargs="*", help="study ids (default: every study)")
    _execution_options(r)
    w = sub.add_parser("sweep", help="run one study over a grid of settings times seeds")
    w.add_argument("study", help="the study id")
    w.add_argument("--grid", action="append", default=[], metavar="KEY=V1,V2,...", required=True,
                   help="a setting and the values to try (a JSON list for list-valued keys); repeatable: the "
                        "sweep runs the Cartesian product")
    _execution_options(w)
    a = sub.add_parser("audit", help="audit your own classifier: robustness, calibration, uncertainty, OOD")
    a.add_argument("--model", required=True, metavar="SPEC", help="package.module:callable that returns the nn.Module")
    a.add_argument("--weights", type=Path, help="its state dict (.safetensors, or .pt/.pth saved from state_dict())")
    a.add_argument("--data", type=Path, required=True, help="test inputs and labels: .npz/.pt/.safetensors with x and y")
    a.add_argument("--bounds", metavar="LO,HI", help="the inputs' valid range (default: the data's min and max)")
    a.add_argument("--sections", metavar="A,B", help="robustness,calibration,uncertainty,ood (default: all)")
    a.add_argument("--seed", type=int, default=0)
    a.add_argument("--mc-samples", type=int, default=30, help="MC-dropout passes (uncertainty section)")
    a.add_argument("--out", type=Path, default=Path("runs"), help="folder of runs (default: runs)")
    a.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    for name, text in (("show", "print a run's summary again"), ("report", "re-render a run's HTML report")):
        s = sub.add_parser(name, help=text)
        s.add_argument("run_dir", type=Path, nargs="?", default=Path("runs/latest"))
    return p


def _list() -> int:
    from rich.console import Console
    from rich.table import Table

    import limitlab.studies  # noqa: F401  (registers the studies)
    from limitlab.study import all_studies

    table = Table(title="limitlab studies")
    for col in ("id", "chapter", "claim"):
        table.add_column(col)
    for s in all_studies():
        table.add_row(s.id, s.chapter, s.claim)
    Console().print(table)
    return 0


def _run(args: argparse.Namespace) -> int:
    from limitlab import runner
    from limitlab.cache import default_cache_dir
    from limitlab.config import parse_assignments, read_config_file
    from limitlab.study import REGISTRY

    if args.resume and not Path(args.resume).exists() and args.resume in REGISTRY:
        args.ids, args.resume = [*args.ids, args.resume], ""  # `run --resume adversarial`: an id, not a folder
    plan = runner.plan(args.ids, preset=args.preset, overrides=parse_assignments(args.sets),
                       file_values=read_config_file(args.config) if args.config else {}, seed=args.seed,
                       num_seeds=args.seeds, threads=args.threads,
                       cache_dir=None if args.no_cache else default_cache_dir())
    results = _execute(plan, args)
    if results is None:
        return 130
    from limitlab.report import print_summary

    print_summary(results, title=f"limitlab · {results.run_dir}")
    print(f"report: {results.run_dir / 'index.html'}", file=sys.stderr)
    return 1 if any(r.verdict == "error" for r in results) else 0


def _sweep(args: argparse.Namespace) -> int:
    from limitlab import sweeps as sweep
    from limitlab.cache import default_cache_dir
    from limitlab.config import parse_assignments, read_config_file
    from limitlab.report import print_summary

    grid = sweep.parse_grid(args.grid)
    plan = sweep.plan(args.study, grid, preset=args.preset, seed=args.seed, seeds=args.seeds,
                      overrides=parse_assignments(args.sets), threads=args.threads,
                      file_values=read_config_file(args.config) if args.config else {},
                      cache_dir=None if args.no_cache else default_cache_dir())
    results = _execute(plan, args, report=False)
    if results is None:
        return 130
    done = sweep.Sweep(args.study, grid, list(results), results.run_dir)
    done.write(results.run_dir)
    print_summary([done.summary()], title=f"limitlab sweep · {results.run_dir}")
    print(f"report: {results.run_dir / 'index.html'}; table: {results.run_dir / 'sweep.csv'}", file=sys.stderr)
    return 1 if any(r.verdict == "error" for r in results) else 0


def _execute(plan, args: argparse.Namespace, *, report: bool = True):
    """Run a plan with the live display; None if interrupted (what finished is kept for --resume)."""
    from rich.console import Console

    from limitlab import api
    from limitlab.report.live import Live

    console = Console(stderr=True)
    resume: bool | str = False if args.resume is None else (args.resume or True)
    try:
        with Live(len(plan.all_tasks()), console=console, bars=console.is_terminal) as live:
            return api.execute(plan, out=args.out, jobs=args.jobs or default_jobs(), executor=args.executor,
                               ray_address=args.ray_address, resume=resume, on_result=live.result,
                               on_event=live.event, on_kept=lambda r: live.result(r, resumed=True), report=report)
    except KeyboardInterrupt:
        latest = args.out / "latest"
        where = f" {latest.resolve()}" if latest.exists() else ""
        print(f"error: interrupted; what finished is kept: continue with --resume{where}", file=sys.stderr)
        return None


def _audit(args: argparse.Namespace, argv: list[str]) -> int:
    import os
    import shlex

    import torch
    from rich.console import Console

    from limitlab import rundir, runner
    from limitlab.audit import audit, load_model, parse_bounds
    from limitlab.context import Progress, RichProgress
    from limitlab.data import load_arrays
    from limitlab.report import print_summary, render_figures, write_report

    torch.set_num_threads(max(1, args.threads))
    if os.getcwd() not in sys.path:  # a spec names the user's own module: find it from where they run us
        sys.path.insert(0, os.getcwd())
    bounds = parse_bounds(args.bounds) if args.bounds else None
    model = load_model(args.model, args.weights)
    data = load_arrays(args.data, bounds=bounds)
    results = audit(model, data.x, data.y, bounds=bounds, seed=args.seed, mc_samples=args.mc_samples,
                    sections=args.sections.split(",") if args.sections else None,
                    progress=RichProgress("audit") if sys.stderr.isatty() else Progress())
    env = runner.environment()
    for r in results:
        r.rerun = shlex.join(["limitlab", *argv])
        r.provenance.update(env, data=str(args.data), model_spec=args.model,
                            weights=str(args.weights) if args.weights else None)
    run_dir = rundir.create(args.out, {"kind": "audit", "model": args.model, "data": str(args.data)})
    for r in results:
        render_figures(r, run_dir)
    rundir.write_results(run_dir, results)
    html = write_report(results, run_dir, title="limitlab audit")
    print_summary(results, title=f"limitlab audit · {args.model} · {run_dir}")
    Console(stderr=True).print(f"report: {html}")
    return 0


def _show(args: argparse.Namespace, *, rerender: bool) -> int:
    from limitlab.report import print_summary, write_report
    from limitlab.report import rerender as draw_again
    from limitlab.rundir import load_results

    results = load_results(args.run_dir)
    run_dir = args.run_dir.parent if args.run_dir.name == "results.json" else args.run_dir
    if rerender:  # the figures and the page again, from results.json (which is only read)
        path = write_report(draw_again(results, run_dir), run_dir)
        print(f"report: {path}")
    else:
        print_summary(results, title=f"limitlab · {run_dir}")
    return 0


def _version() -> str:
    from limitlab import __version__

    return __version__


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    try:
        args = _parser().parse_args(argv)
    except SystemExit as done:  # a usage error (already one line), --help or --version
        return done.code if isinstance(done.code, int) else 2
    try:
        if args.command == "list":
            return _list()
        if args.command == "run":
            return _run(args)
        if args.command == "sweep":
            return _sweep(args)
        if args.command == "audit":
            return _audit(args, argv)
        return _show(args, rerender=args.command == "report")
    except LimitlabError as err:
        if args.debug:
            raise
        print(f"error: {err}", file=sys.stderr)
        return 2
    except OSError as err:  # a full disk or a folder made read-only under us: one line, not a traceback
        if args.debug:
            raise
        where = f" ({err.filename})" if getattr(err, "filename", None) else ""
        print(f"error: cannot write the output{where}: {err.strerror or err}; free space or choose another "
              "folder with --out", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
