"""Run every benchmark (`benchmarks/bench_*.py`, each with a `main()`); speed as ratios measured in one run."""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path


def main() -> int:
    here = Path(__file__).parent
    names = sys.argv[1:]
    for path in sorted(here.glob("bench_*.py")):
        if names and not any(n in path.stem for n in names):
            continue
        spec = importlib.util.spec_from_file_location(path.stem, path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        print(f"== {path.stem}")
        module.main()
    return 0


if __name__ == "__main__":
    sys.exit(main())
