"""The Ray executor: the same tasks as remote functions on a Ray cluster (an optional extra).

- Results stream back with `ray.wait`, one at a time as they finish, and the runner writes each at
  once, so an interrupted Ray run leaves everything it finished for `--resume`.
- Each task asks Ray for as many CPUs as the torch threads it sets (`num_cpus=task.threads`), and at
  most `jobs` tasks are in flight (`--jobs`): Ray's scheduler and torch's thread pool agree.
- The address comes from `--ray-address`, else `RAY_ADDRESS`, else a local Ray instance is started
  (and stopped at the end). A cluster that does not answer within `CONNECT_TIMEOUT` seconds is one
  error line, before the run folder exists.
- limitlab's own code is shipped to the workers with `runtime_env={"py_modules": [limitlab]}` when
  connecting to an existing cluster, so every node runs the driver's version; the nodes need the same
  Python and limitlab's dependencies (torch, numpy, scikit-learn, ...) installed.
- The model cache is per node: each node trains a model once and reuses it afterwards.
- Workers' `ctx.log` messages and progress reach the driver through a small actor.
"""
from __future__ import annotations

import os
import socket
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from limitlab.errors import ConfigError
from limitlab.execute.events import Event

CONNECT_TIMEOUT = 10.0


def require_ray() -> Any:
    """The `ray` module, or the one-line error that says how to install it (checked at plan time)."""
    try:
        import ray
    except ImportError:
        raise ConfigError("--executor ray needs Ray, which is not installed; "
                          "install it with: pip install 'limitlab[ray]'") from None
    return ray


def resolve_address(address: str | None) -> str | None:
    return address or os.environ.get("RAY_ADDRESS") or None


def check_reachable(address: str | None) -> None:
    """A one-line ConfigError unless the cluster's GCS answers a TCP connection within the timeout.

    `ray.init` on a dead address retries for minutes; a plain connect says so in seconds."""
    if address in (None, "", "local", "auto"):
        return
    target = address.removeprefix("ray://")
    host, sep, port = target.rpartition(":")
    if not sep or not port.isdigit():
        raise ConfigError(f"Ray address {address!r} is not HOST:PORT; expected e.g. 127.0.0.1:6379 "
                          "(the address `ray start --head` prints)")
    try:
        with socket.create_connection((host.strip("[]"), int(port)), timeout=CONNECT_TIMEOUT):
            pass
    except OSError as err:
        raise ConfigError(f"cannot reach the Ray cluster at {address} ({err.strerror or err}); start it with "
                          "`ray start --head`, or fix --ray-address / RAY_ADDRESS") from None


def _connect(ray: Any, address: str | None) -> bool:
    """Connect (or start a local instance); True if this call started Ray and must shut it down."""
    if ray.is_initialized():
        return False
    import limitlab

    kwargs: dict[str, Any] = {"log_to_driver": False, "include_dashboard": False}
    if address not in (None, "", "local"):
        kwargs["runtime_env"] = {"py_modules": [limitlab]}
    try:
        ray.init(address=address if address not in ("", "local") else None, **kwargs)
    except (ConnectionError, RuntimeError, ValueError, TimeoutError) as err:
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise ConfigError(f"cannot connect to Ray at {address or 'a new local instance'}: {first}; "
                          "check --ray-address / RAY_ADDRESS, or run with --executor local") from None
    return True


def ray_results(tasks: Sequence[Any], run_dir: Path, *, jobs: int, worker: Callable,
                on_event: Callable[[Event], None], address: str | None) -> Iterator[tuple[Any, Any]]:
    ray = require_ray()
    address = resolve_address(address)
    check_reachable(address)
    started = _connect(ray, address)
    try:
        yield from _stream(ray, tasks, run_dir, jobs=max(1, jobs), worker=worker, on_event=on_event)
    finally:
        if started:
            ray.shutdown()


def _stream(ray: Any, tasks: Sequence[Any], run_dir: Path, *, jobs: int, worker: Callable,
            on_event: Callable[[Event], None]) -> Iterator[tuple[Any, Any]]:
    sink = ray.remote(num_cpus=0)(_Mailbox).remote()
    todo, running = list(tasks), dict[Any, Any]()
    try:
        while todo or running:
            while todo and len(running) < jobs:
                task = todo.pop(0)
                remote = ray.remote(num_cpus=task.threads, max_retries=0)(_remote_call)
                running[remote.remote(worker, task, str(run_dir), sink)] = task
            ready, _ = ray.wait(list(running), num_returns=1, timeout=0.5)
            for event in ray.get(sink.take.remote()):
                on_event(event)
            for ref in ready:
                task = running.pop(ref)
                try:
                    result = ray.get(ref)
                except (ray.exceptions.RayError, OSError) as err:  # the worker died or Ray lost the task
                    result = task.crashed(f"Ray could not run it: {type(err).__name__}: {str(err).splitlines()[0]}")
                yield task, result
    finally:
        for ref in running:
            ray.cancel(ref, force=True)


def _remote_call(worker: Callable, task: Any, run_dir: str, sink: Any) -> Any:
    return worker(task, Path(run_dir), _ActorSink(sink))


class _ActorSink:
    def __init__(self, actor: Any) -> None:
        self.actor = actor

    def put(self, item: Event) -> None:
        self.actor.put.remote(item)


class _Mailbox:
    """A Ray actor holding workers' events until the driver takes them."""

    def __init__(self) -> None:
        self.items: list[Event] = []

    def put(self, item: Event) -> None:
        self.items.append(item)

    def take(self) -> list[Event]:
        items, self.items = self.items, []
        return items
