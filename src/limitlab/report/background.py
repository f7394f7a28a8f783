"""Draw a run's figures in a second Python process while the studies run.

matplotlib takes about half a second a figure here (nearly all of it text layout), and a suite has
dozens: drawn at the end they add half a minute to the run. The studies use one core; a worker on the
other draws each study's figures while the next study trains, so they come almost free.

The worker is a fresh interpreter (`python -m limitlab.report.background RUN_DIR`) that never imports
torch. It reads one job-file path per line on stdin, writes each PNG atomically, and prints the
relative path of every figure it drew. (multiprocessing's spawn would re-import the caller's
`__main__`, which breaks any script without a main guard; a plain subprocess does not care how the
caller was started.) Nothing here is required: whatever the worker did not draw, because it failed or
died, `write_report` draws in the main process, where an error shows.
"""
from __future__ import annotations

import dataclasses
import json
import shutil
import subprocess
import sys
from pathlib import Path
from types import TracebackType

from limitlab._io import atomic_write_bytes
from limitlab.result import Figure, Result, to_plain


def figure_file(result: Result, figure: Figure) -> str:
    """Where a figure's PNG goes, relative to the run folder."""
    return f"figures/{result.study}-{figure.id}.png"


class BackgroundRenderer:
    """`submit(result)` queues its figures; `close()` waits and returns the files drawn."""

    def __init__(self, run_dir: Path) -> None:
        self.run_dir = Path(run_dir)
        self.jobs = self.run_dir / ".figure-jobs"
        self.jobs.mkdir(parents=True, exist_ok=True)
        self.count = 0
        self.proc = subprocess.Popen([sys.executable, "-m", "limitlab.report.background", str(self.run_dir)],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                     text=True)

    def submit(self, result: Result) -> None:
        if not result.figures:
            return
        # The figures go through a file, and only its path through the pipe: a pipe write of a large
        # figure would block the study until the worker had read it.
        job = self.jobs / f"{self.count}.json"
        self.count += 1
        job.write_text(json.dumps([{"file": figure_file(result, f), "figure": to_plain(dataclasses.asdict(f))}
                                   for f in result.figures], allow_nan=False))
        try:
            self.proc.stdin.write(f"{job}\n")
            self.proc.stdin.flush()
        except OSError:  # the worker died: write_report draws these figures itself
            pass

    def close(self) -> set[str]:
        """Wait for the worker; the relative paths of the figures it drew."""
        try:
            self.proc.stdin.close()
        except OSError:
            pass
        drawn = set(self.proc.stdout.read().splitlines())
        self.proc.wait()
        shutil.rmtree(self.jobs, ignore_errors=True)
        return drawn

    def __enter__(self) -> BackgroundRenderer:
        return self

    def __exit__(self, kind: type[BaseException] | None, err: BaseException | None, tb: TracebackType | None) -> None:
        if kind is not None:  # interrupted or failed: do not wait for figures nobody will see
            self.proc.kill()
            self.proc.wait()
            shutil.rmtree(self.jobs, ignore_errors=True)


def main() -> None:
    from limitlab.report.figures import render

    run_dir = Path(sys.argv[1])
    for line in sys.stdin:
        for item in json.loads(Path(line.strip()).read_text()):
            try:
                atomic_write_bytes(run_dir / item["file"], render(Figure(**item["figure"])))
            except Exception:  # noqa: BLE001  (drawn again by the main process, where the error shows)
                continue
            sys.stdout.write(item["file"] + "\n")  # the protocol: one drawn file per line, as it is done
            sys.stdout.flush()


if __name__ == "__main__":
    main()
