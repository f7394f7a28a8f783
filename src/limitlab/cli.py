"""The command line: argv -> strings -> registry/config -> runner -> report.

Every LimitlabError becomes one line `error: ...` and exit code 2 (`--debug` shows the traceback);
a study that crashed is in the report, and the exit code is then 1.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from limitlab.errors import LimitlabError


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="limitlab", description="The limitations of deep learning, measured.")
    p.add_argument("--debug", action="store_true", help="show tracebacks")
    sub = p.add_subparsers(dest="command", required=True)
    sub.add_parser("list", help="list the studies: id, chapter, claim")
    r = sub.add_parser("run", help="run studies and write a report")
    r.add_argument("ids", nargs="*", help="study ids (default: every study)")
    r.add_argument("--preset", default="default", help="tiny | default | full")
    r.add_argument("--set", dest="sets", action="append", default=[], metavar="KEY=VALUE",
                   help="override a config value (KEY or STUDY.KEY); repeatable")
    r.add_argument("--config", type=Path, help="a TOML or JSON file of overrides")
    r.add_argument("--seed", type=int, default=0)
    r.add_argument("--seeds", type=int, default=1, help="repeat over this many seeds; report mean and spread")
    r.add_argument("--out", type=Path, default=Path("runs"), help="folder of runs (default: runs)")
    r.add_argument("--jobs", type=int, default=1, help="studies in parallel processes")
    r.add_argument("--executor", choices=("local", "ray"), default="local")
    r.add_argument("--resume", action="store_true", help="continue the latest run, skipping finished studies")
    r.add_argument("--threads", type=int, default=1,
                   help="torch threads per study (default 1: these models are small, and a second thread buys "
                        "about 15%% on an idle machine but costs several times over on a busy one; use --jobs)")
    r.add_argument("--no-cache", action="store_true", help="retrain every model")
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

    from limitlab.study import all_studies

    table = Table(title="limitlab studies")
    for col in ("id", "chapter", "claim"):
        table.add_column(col)
    for s in all_studies():
        table.add_row(s.id, s.chapter, s.claim)
    Console().print(table)
    return 0


def _run(args: argparse.Namespace) -> int:
    from rich.console import Console

    from limitlab import runner
    from limitlab.cache import default_cache_dir
    from limitlab.config import parse_assignments, read_config_file
    from limitlab.report import BackgroundRenderer, print_summary, write_report

    console = Console(stderr=True)
    jobs = max(1, args.jobs)
    threads = max(1, args.threads)
    file_values = read_config_file(args.config) if args.config else {}
    plan = runner.plan(args.ids, preset=args.preset, overrides=parse_assignments(args.sets),
                       file_values=file_values, seed=args.seed, num_seeds=args.seeds,
                       cache_dir=None if args.no_cache else default_cache_dir(), threads=threads,
                       progress=jobs == 1 and args.executor == "local" and sys.stderr.isatty())
    run_dir = runner.make_run_dir(args.out, resume=args.resume)

    def announce(r) -> None:
        mark = {"holds": "[green]✓[/]", "fails": "[red]✗[/]", "inconclusive": "[yellow]?[/]"}.get(r.verdict, "[magenta]![/]")
        console.print(f"{mark} {r.study} (seed {r.provenance['seed']}): {r.verdict} "
                      f"in {r.provenance['wall_seconds']:.1f} s")

    with BackgroundRenderer(run_dir) as renderer:
        def finished(r) -> None:
            announce(r)
            if r.provenance.get("seed") == args.seed:  # with --seeds K, the report shows the first seed's figures
                renderer.submit(r)

        results = runner.run(plan, run_dir, jobs=jobs, executor=args.executor, resume=args.resume,
                             on_result=finished)
        drawn = renderer.close()
    html = write_report(results, run_dir, drawn=drawn)
    runner.write_results(run_dir, results)
    runner.point_latest(args.out, run_dir)
    print_summary(results, title=f"limitlab · {run_dir}")
    console.print(f"report: {html}")
    return 1 if any(r.verdict == "error" for r in results) else 0


def _audit(args: argparse.Namespace, argv: list[str]) -> int:
    import os
    import shlex

    import torch
    from rich.console import Console

    from limitlab import runner
    from limitlab.audit import audit, load_model, parse_bounds
    from limitlab.context import Progress, RichProgress
    from limitlab.data import load_arrays
    from limitlab.report import print_summary, write_report

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
    run_dir = runner.make_run_dir(args.out, resume=False)
    html = write_report(results, run_dir)
    runner.write_results(run_dir, results)
    runner.point_latest(args.out, run_dir)
    print_summary(results, title=f"limitlab audit · {args.model} · {run_dir}")
    Console(stderr=True).print(f"report: {html}")
    return 0


def _show(args: argparse.Namespace, *, rerender: bool) -> int:
    from limitlab.report import print_summary, rewrite_report
    from limitlab.runner import load_results, write_results

    results = load_results(args.run_dir)
    if rerender:
        path = rewrite_report(results, args.run_dir)
        write_results(args.run_dir, results)
        print(f"report: {path}")
    else:
        print_summary(results, title=f"limitlab · {args.run_dir}")
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    args = _parser().parse_args(argv)
    try:
        if args.command == "list":
            return _list()
        if args.command == "run":
            return _run(args)
        if args.command == "audit":
            return _audit(args, argv)
        return _show(args, rerender=args.command == "report")
    except LimitlabError as err:
        if args.debug:
            raise
        print(f"error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
