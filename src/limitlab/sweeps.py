"""Sweeps: one study over the Cartesian product of settings, times seeds, as tasks.

    limitlab sweep adversarial --grid eps=0.05,0.1,0.2 --grid pgd_steps=10,40 --seeds 3 --jobs 2
    limitlab.sweep("adversarial", grid={"eps": [0.05, 0.1, 0.2]}, seeds=3)

Every (grid point, seed) is a task like any other: it runs under any executor, is written the moment it
finishes, and is never recomputed after a kill (`--resume`). Each point is judged over its seeds like
a study; the sweep writes `sweep.json` (each point's settings, verdicts and metric means and spreads),
`sweep.csv` (one row per point, seed and metric) and a report page that plots every metric against
the swept setting with its spread over seeds.
"""
from __future__ import annotations

import csv
import io
import itertools
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from limitlab import figures, runner
from limitlab._io import atomic_write_bytes
from limitlab.cache import default_cache_dir
from limitlab.config import field_types, read_config_file
from limitlab.errors import ConfigError
from limitlab.result import Figure, Result, Table
from limitlab.study import get_study

PANELS_PER_FIGURE = 9


def parse_grid(items: Sequence[str]) -> dict[str, list[Any]]:
    """`["eps=0.05,0.1", "models=[[\\"cnn\\"],[\\"mlp\\"]]"]` -> {"eps": ["0.05", "0.1"], "models": [[...], [...]]}."""
    grid: dict[str, list[Any]] = {}
    for item in items:
        key, sep, text = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise ConfigError(f"--grid {item!r} is not of the form key=v1,v2,...; e.g. --grid eps=0.05,0.1")
        if key in grid:
            raise ConfigError(f"--grid {key} is given twice; give each key once, with all its values")
        if text.strip().startswith("["):
            try:
                values = json.loads(text)
            except json.JSONDecodeError as err:
                raise ConfigError(f"--grid {item!r}: not a JSON list ({err.msg}); e.g. --grid 'models=[[\"cnn\"],"
                                  "[\"mlp\"]]'") from None
        else:
            values = [v.strip() for v in text.split(",") if v.strip()]
        if not isinstance(values, list) or not values:
            raise ConfigError(f"--grid {item!r} has no values; expected key=v1,v2,...")
        grid[key] = values
    return grid


def points(grid: Mapping[str, Sequence[Any]]) -> list[dict[str, Any]]:
    keys = list(grid)
    return [dict(zip(keys, combo)) for combo in itertools.product(*(grid[k] for k in keys))]


def plan(study: str, grid: Mapping[str, Sequence[Any]], *, preset: str = "default", seed: int = 0,
         seeds: int | None = None, overrides: Mapping[str, Any] | None = None,
         file_values: Mapping[str, Any] | None = None, cache_dir: Path | None = None, threads: int = 1,
         ) -> runner.Plan:
    """Every (point, seed) task, each point's config resolved and validated before anything runs."""
    cls = get_study(study)
    if not grid:
        raise ConfigError("a sweep needs at least one --grid key=v1,v2,...")
    valid = field_types(cls.Config)
    for key in grid:
        if key not in valid:
            raise ConfigError(f"--grid {key}: unknown config key for {study}; valid keys: {', '.join(valid)}")
        if key in (overrides or {}):
            raise ConfigError(f"{key} is both swept (--grid) and set (--set); keep one")
    out = runner.Plan(preset=preset, kind="sweep", extra={"grid": {k: list(v) for k, v in grid.items()}})
    for k, settings in enumerate(points(grid)):
        base = runner.plan([study], preset=preset, overrides={**(overrides or {}), **settings},
                           file_values=file_values, seed=seed, num_seeds=seeds, cache_dir=cache_dir,
                           threads=threads, figures=False)  # the page plots the sweep, not one point
        point = f"p{k:03d}"
        tasks = [replace(t, point=point) for t in base.tasks[study]]
        out.tasks[tasks[0].group] = tasks
        out.studies[tasks[0].group] = base.studies[study]
    return out


@dataclass
class Sweep:
    """A finished sweep: its grid, and one Result (aggregated over seeds) per point, in grid order."""

    study: str
    grid: dict[str, list[Any]]
    results: list[Result]
    run_dir: Path | None = None

    @property
    def settings(self) -> list[dict[str, Any]]:
        return points(self.grid)

    def to_json(self) -> dict[str, Any]:
        return {"study": self.study, "grid": self.grid, "points": [
            {"id": f"p{k:03d}", "settings": s, "verdict": r.verdict, "seeds": r.seeds,
             "metrics": {n: {"value": m.value, "spread": m.spread, "values": m.values, "unit": m.unit}
                         for n, m in r.metrics.items()}}
            for k, (s, r) in enumerate(zip(self.settings, self.results))]}

    def to_csv(self) -> str:
        buf = io.StringIO()
        writer = csv.writer(buf)
        writer.writerow(["point", *self.grid, "seed", "verdict", "metric", "value", "unit"])
        for k, (s, r) in enumerate(zip(self.settings, self.results)):
            seeds = r.seeds or [{"seed": r.provenance.get("seed"), "verdict": r.verdict}]
            for name, m in r.metrics.items():
                values = m.values if m.values and len(m.values) == len(seeds) else [m.value]
                for line, value in zip(seeds, values):
                    writer.writerow([f"p{k:03d}", *map(_text, s.values()), line["seed"], line["verdict"], name,
                                     "" if value is None else repr(value), m.unit])
        return buf.getvalue()

    def summary(self) -> Result:
        """The sweep as one page: a verdict per setting, and every metric against the swept setting."""
        cls = get_study(self.study)
        verdicts = [r.verdict for r in self.results]
        counts = runner.seed_summary(verdicts).replace("seeds", "settings")
        rows = [[", ".join(f"{k}={_text(v)}" for k, v in s.items()), r.verdict,
                 " ".join(f"{x['seed']}:{x['verdict']}" for x in r.seeds)] for s, r in zip(self.settings, self.results)]
        return Result(study=self.study, claim=cls.claim, verdict=runner.consensus(verdicts),
                      evidence=f"Over {len(verdicts)} settings of {', '.join(self.grid)}: {counts}.",
                      figures=self.figures(), tables=[Table("Verdict per setting", ["setting", "verdict", "per seed"],
                                                            rows)],
                      chapter="sweep", sources=list(cls.sources), rule=cls.rule(),
                      config={"grid": self.grid}, provenance={"points": len(self.results)})

    def figures(self) -> list[Figure]:
        x_key, *other = list(self.grid)
        names = [n for n in self.results[0].metrics if all(n in r.metrics for r in self.results)]
        groups: dict[tuple, list[int]] = {}
        for k, s in enumerate(self.settings):
            groups.setdefault(tuple(_text(s[o]) for o in other), []).append(k)
        numeric = all(_number(v) is not None for v in self.grid[x_key])
        xs = [_number(v) if numeric else i for i, v in enumerate(self.grid[x_key])]
        panels = []
        for name in names:
            series = []
            for label, ks in groups.items():
                ys = [self.results[k].metrics[name].value for k in ks]
                sd = [self.results[k].metrics[name].spread or 0.0 for k in ks]
                lo = [None if y is None else y - d for y, d in zip(ys, sd)]
                hi = [None if y is None else y + d for y, d in zip(ys, sd)]
                tag = ", ".join(f"{o}={v}" for o, v in zip(other, label)) or "mean ± std over seeds"
                series.append(figures.series(tag, xs[:len(ks)], ys, lo=lo, hi=hi))
            panels.append(figures.lines(series, title=name, xlabel=x_key, ylabel=self.results[0].metrics[name].unit))
        caption = "" if numeric else "x: " + ", ".join(f"{i}={_text(v)}" for i, v in enumerate(self.grid[x_key]))
        return [Figure(f"metrics-{i // PANELS_PER_FIGURE + 1}", f"Metrics against {x_key} (mean ± std over seeds)",
                       panels[i:i + PANELS_PER_FIGURE], caption=caption)
                for i in range(0, len(panels), PANELS_PER_FIGURE)]

    def write(self, run_dir: Path) -> None:
        from limitlab.report import render_figures, write_report

        atomic_write_bytes(run_dir / "sweep.json", json.dumps(self.to_json(), indent=1, allow_nan=False).encode())
        atomic_write_bytes(run_dir / "sweep.csv", self.to_csv().encode())
        summary = render_figures(self.summary(), run_dir)
        write_report([summary], run_dir, title=f"limitlab sweep · {self.study}")


def _text(value: Any) -> str:
    return json.dumps(value) if isinstance(value, (list, dict)) else str(value)


def _number(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def sweep(study: str, grid: Mapping[str, Sequence[Any]], *, seeds: int | None = None, preset: str = "default",
          seed: int = 0, out: str | Path | None = None, jobs: int = 1, executor: str = "local",
          ray_address: str | None = None, resume: bool | str = False, cache: bool = True,
          config: str | Path | None = None, threads: int = 1, **overrides: Any) -> Sweep:
    """`limitlab sweep` from Python: `grid` maps config keys to the values to try."""
    from limitlab import api

    grid = {k: list(v) for k, v in grid.items()}
    p = plan(study, grid, preset=preset, seed=seed, seeds=seeds, overrides=overrides, threads=threads,
             file_values=read_config_file(config) if config is not None else {},
             cache_dir=default_cache_dir() if cache else None)
    results = api.execute(p, out=Path(out) if out is not None else None, jobs=jobs, executor=executor,
                          ray_address=ray_address, resume=resume, report=False)
    done = Sweep(study, {k: list(v) for k, v in grid.items()}, list(results), results.run_dir)
    if done.run_dir is not None:
        done.write(done.run_dir)
    return done
