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
    a = sub.add_parser("audit", help="audit your own classifier: pre-flight checks, robustness, corruptions, "
                                     "calibration, uncertainty, OOD, attribution, slices, remedies")
    a.add_argument("--model", required=True, metavar="SPEC", help="package.module:callable that returns the nn.Module")
    a.add_argument("--weights", type=Path, help="its state dict (.safetensors, or .pt/.pth saved from "
                                                "state_dict()); default: the weights the builder gives it")
    a.add_argument("--data", type=Path, required=True,
                   help="test inputs and labels: .npz/.pt/.safetensors with x and y")
    a.add_argument("--bounds", metavar="LO,HI|FILE",
                   help="the inputs' valid range: one pair, or a .npz (lo, hi) / .csv of per-feature or per-channel "
                        "bounds (default: inferred from the data per channel or per feature, and said so)")
    a.add_argument("--normalize", metavar="MEAN,STD",
                   help="the model expects (x - mean) / std per channel while the data is raw: C means then C stds "
                        "(attacks stay in raw units; default: none)")
    a.add_argument("--ood", type=Path, metavar="FILE", help="your own out-of-distribution inputs, scored beside the "
                                                            "built-in sets (.npz/.pt/.safetensors/.csv with x; "
                                                            "default: none)")
    a.add_argument("--groups", type=Path, metavar="FILE", help="a group id per input of --data, for per-group "
                                                               "findings (.npz with groups, or a one-column .csv; "
                                                               "default: none, per class only)")
    a.add_argument("--train", type=Path, metavar="FILE", help="labelled training data (like --data) for the remedies "
                                                              "that fine-tune a copy of the model (default: none: "
                                                              "the remedies section is left out)")
    a.add_argument("--layer", metavar="NAME", help="the module attribution reads (default: the last convolution)")
    a.add_argument("--max-inputs", type=_positive("--max-inputs"), metavar="N",
                   help="audit a seeded subsample of N inputs, stratified by label (default: all)")
    a.add_argument("--batch-size", type=_positive("--batch-size"), default=256, metavar="N",
                   help="inputs per forward pass (default 256)")
    a.add_argument("--device", default="auto", help="where the model runs: auto (cuda when present, else cpu), cpu, "
                                                    "cuda, cuda:N (default auto)")
    a.add_argument("--sections", metavar="A,B", help="the sections to run, e.g. robustness,ood (default: all; the "
                                                     "pre-flight checks always run; a wrong name lists them all)")
    a.add_argument("--preset", default="default", help="tiny | default | full (default: default)")
    a.add_argument("--set", dest="sets", action="append", default=[], metavar="SECTION.KEY=VALUE",
                   help="override a section's config value, e.g. robustness.pgd_restarts=8; repeatable")
    a.add_argument("--config", type=Path, help="a TOML or JSON file of overrides (tables named after sections)")
    a.add_argument("--seed", type=int, default=0, help="the seed (default 0)")
    a.add_argument("--out", type=Path, default=Path("runs"), help="folder of runs (default: runs)")
    a.add_argument("--jobs", type=_positive("--jobs"), default=1,
                   help="sections in parallel processes (default 1: in this process, the model loaded once)")
    a.add_argument("--threads", type=_positive("--threads"), default=1, help="torch threads per section (default 1)")
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
    import shlex

    import torch
    from rich.console import Console
    from rich.table import Table as RichTable
    from rich.text import Text

    from limitlab import audit, rundir, runner
    from limitlab.config import parse_assignments, read_config_file
    from limitlab.report import print_summary, write_report
    from limitlab.report.live import Live

    console = Console(stderr=True)
    torch.set_num_threads(args.threads)
    if os.getcwd() not in sys.path:  # a spec names the user's own module: find it from where they run us,
        sys.path.append(os.getcwd())  # after the installed packages (a stray matplotlib.py must not shadow one)
    options = audit.Options(ood=_path(args.ood), groups=_path(args.groups), train=_path(args.train), layer=args.layer,
                            max_inputs=args.max_inputs, sample_seed=args.seed, batch_size=args.batch_size,
                            device=args.device)
    spec = audit.SubjectSpec(args.model, str(args.data), _path(args.weights), args.bounds, args.normalize, options)
    subject = audit.load_subject(spec)  # every check of the model and data, before any work
    file_values = read_config_file(args.config) if args.config else {}
    plan = audit.plan(subject if args.jobs == 1 else spec, sections=args.sections, preset=args.preset,
                      settings=parse_assignments(args.sets), file_values=file_values, seed=args.seed,
                      threads=args.threads, loaded=subject)
    about = subject.about
    run_dir = rundir.create(args.out, {**plan.identity(), "kind": "audit", "subject": about})
    try:
        with Live(len(plan.all_tasks()), console=console, bars=console.is_terminal) as live:
            results = runner.run(plan, run_dir, jobs=args.jobs, on_result=live.result, on_event=live.event)
    except KeyboardInterrupt:
        print(f"error: interrupted; what finished is in {run_dir}", file=sys.stderr)
        return 130
    for r in results:
        r.rerun = shlex.join(["limitlab", *argv])
        r.provenance["subject"] = about
    rundir.write_results(run_dir, results)
    html = write_report(results, run_dir, title="limitlab audit")
    preflight = next((r.tables[0] for r in results if r.study == "audit-preflight" and r.tables), None)
    if preflight is not None:  # what the audit found about the model before measuring it, shown first
        table = RichTable(title=preflight.title, show_lines=False)
        for col in preflight.columns:
            table.add_column(col)
        for row in preflight.rows:
            table.add_row(*(Text(str(v), style="bold red" if v == "problem" else "") for v in row))
        Console().print(table)
    print_summary(results, title=f"limitlab audit · {args.model} · {run_dir}")
    console.print(f"report: {html}")
    return 1 if any(r.verdict == "error" for r in results) else 0


def _path(value: Path | None) -> str | None:
    return None if value is None else str(value)


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
