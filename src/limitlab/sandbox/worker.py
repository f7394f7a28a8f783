"""The sandbox worker: a trusted `python -I -S` process that forks one confined child per program.

It reads {"programs", "timeout", "cpu", "memory", "jobs", "tripwire", "namespaces", "src"} as JSON on
stdin, probes which plan works (namespaces first, then without), runs the programs `jobs` at a time, and
writes {"plan": the layers in force or null, "reason": why there is none, "records": [...]} on stdout,
one raw record per program: whether the child finished its setup ("started", else the setup error),
its exit code or signal, whether the worker killed it at its deadline, its CPU time, and the last bytes
of its stderr. It judges nothing: `limitlab.codeexec` turns the records into outcomes. It never reads
anything from a child except that bounded stderr tail and the setup pipe, which the child closes before
the program starts.
"""
from __future__ import annotations

import json
import os
import resource
import selectors
import shutil
import signal
import sys
import time

from limitlab.sandbox import confine, tripwire

TAIL = 4096  # bytes of a child's stderr kept (the wrapper's or hook's last line is at the end)
SETUP_SECONDS = 5.0
LIB_DIRS = ("/lib", "/lib64", "/usr/lib", "/usr/lib64", "/usr/local/lib", "/usr/share/zoneinfo")
READ_FILES = ("/etc/ld.so.cache", "/etc/localtime", "/dev/urandom", "/dev/random", "/dev/zero")


class Child:
    """One running program: its pipes (setup, stderr), a pidfd to wait on and signal, what it has sent."""

    def __init__(self, k: int, pid: int, ready: int, err: int, now: float) -> None:
        self.k, self.pid, self.ready, self.err = k, pid, ready, err
        self.pidfd = os.pidfd_open(pid)
        self.deadline, self.setup, self.tail, self.killed, self.done = now + SETUP_SECONDS, b"", b"", False, False


class Batch:
    """The paths every child may use, and the loop that runs children and collects their records."""

    def __init__(self, root: str, stdlib: list[str], hook: bool) -> None:
        self.root, self.worker, self.hook = root, os.getpid(), hook
        stdlib = [os.path.realpath(p) for p in stdlib if os.path.exists(p)]  # folders, and maybe a zip file
        libs = {os.path.realpath(p) for p in LIB_DIRS if os.path.isdir(p)}
        libs |= {os.path.realpath(os.path.join(p, "lib")) for p in (sys.base_prefix, sys.base_exec_prefix)}
        self.read_dirs = sorted(libs | {p for p in stdlib if os.path.isdir(p)})
        self.read_files = [os.path.realpath(p) for p in (*READ_FILES, *stdlib) if os.path.isfile(p)]

    def run(self, programs: list[str], plan: confine.Plan, timeout: float, jobs: int) -> list[dict]:
        records: dict[int, dict] = {}  # program index -> its record, once its child has ended
        running: dict[int, Child] = {}  # pid -> child
        todo = list(range(len(programs)))[::-1]
        with selectors.DefaultSelector() as sel:
            while todo or running:
                while todo and len(running) < jobs:
                    child = self.spawn(todo.pop(), programs, plan)
                    running[child.pid] = child
                    for fd, kind in ((child.ready, "ready"), (child.err, "err"), (child.pidfd, "exit")):
                        sel.register(fd, selectors.EVENT_READ, (child, kind))
                wait = min(c.deadline for c in running.values()) - time.monotonic()
                for key, _ in sel.select(max(wait, 0.0)):
                    child, kind = key.data
                    if child.done:
                        continue  # finished earlier in this round: its descriptors are closed
                    if kind == "exit":
                        records[child.k] = self.finish(child, sel)
                        del running[child.pid]
                    else:
                        self.read(child, kind, sel, timeout)
                now = time.monotonic()
                for child in running.values():
                    if now >= child.deadline and not child.killed:
                        signal.pidfd_send_signal(child.pidfd, signal.SIGKILL)
                        child.killed, child.deadline = True, now + 60
        return [records[k] for k in range(len(programs))]  # every child has ended

    def spawn(self, k: int, programs: list[str], plan: confine.Plan) -> Child:
        box = os.path.join(self.root, f"p{k}")
        os.mkdir(box, 0o700)
        ready_r, ready_w = os.pipe()
        err_r, err_w = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: never returns
            try:
                self.child(box, programs[k], plan, ready_w, err_w)
            finally:
                os._exit(125)
        os.close(ready_w)
        os.close(err_w)
        os.set_blocking(ready_r, False)
        os.set_blocking(err_r, False)
        return Child(k, pid, ready_r, err_r, time.monotonic())

    def child(self, box: str, code: str, plan: confine.Plan, ready: int, err: int) -> None:
        try:
            os.setsid()
            null = os.open(os.devnull, os.O_RDWR)
            for target, fd in enumerate((null, null, err, ready)):  # every source is >= 3: none is overwritten early
                os.dup2(fd, target)
            ready = 3
            os.closerange(4, resource.getrlimit(resource.RLIMIT_NOFILE)[0])
            os.environ.clear()
            os.environ.update(PATH="/nonexistent", HOME=box, TMPDIR=box, LC_ALL="C.UTF-8")
            sys.dont_write_bytecode = True
            # rmtree by path: the filter kills handle-relative (dir_fd) calls. (A private flag: not in typeshed.)
            shutil._use_fd_functions = False  # type: ignore[attr-defined]
            confine.confine(box, plan, worker=self.worker, read_dirs=self.read_dirs, read_files=self.read_files,
                            rw_files=[os.devnull])
            if self.hook:
                tripwire.install(box, (*self.read_dirs, *self.read_files), (os.devnull,))
            for name in [m for m in sys.modules if m.split(".")[0] in ("limitlab", "ctypes", "_ctypes")]:
                del sys.modules[name]  # so that `import ctypes` is an import the tripwire sees
            os.write(ready, b"R")
            os.close(ready)
        except BaseException as exc:  # noqa: BLE001  (whatever failed, the program must not run: say why, leave)
            try:
                os.write(ready, b"F" + f"{type(exc).__name__}: {exc}".encode(errors="replace")[:500])
            finally:
                os._exit(125)
        tripwire.run(code)
        os._exit(0)  # not reached: run() always ends the process

    def read(self, child: Child, kind: str, sel: selectors.BaseSelector, timeout: float) -> bool:
        """Take what is in one of the child's pipes; False once there is nothing more to take now."""
        fd = child.ready if kind == "ready" else child.err
        try:
            data = os.read(fd, 65536)
        except BlockingIOError:
            return False
        if not data:  # its end: the child has closed it or is gone
            sel.unregister(fd)
            return False
        if kind == "err":
            child.tail = (child.tail + data)[-TAIL:]
        else:
            if not child.setup and data.startswith(b"R"):
                child.deadline = time.monotonic() + timeout  # the program's own time starts now
            child.setup = (child.setup + data)[:600]
        return True

    def finish(self, child: Child, sel: selectors.BaseSelector) -> dict:
        _, status, usage = os.wait4(child.pid, 0)
        child.done = True
        for fd, kind in ((child.ready, "ready"), (child.err, "err")):
            for _ in range(64):  # the child is gone: at most a pipe's capacity is left, then the end
                if fd not in sel.get_map() or not self.read(child, kind, sel, 0.0):
                    break
        for fd in (child.ready, child.err, child.pidfd):
            if fd in sel.get_map():
                sel.unregister(fd)
            os.close(fd)
        shutil.rmtree(os.path.join(self.root, f"p{child.k}"), ignore_errors=True)
        started = child.setup.startswith(b"R")
        return {"started": started, "setup": "" if started else child.setup[1:].decode(errors="replace"),
                "exit": os.WEXITSTATUS(status) if os.WIFEXITED(status) else None,
                "signal": os.WTERMSIG(status) if os.WIFSIGNALED(status) else None,
                "killed": child.killed, "cpu": usage.ru_utime + usage.ru_stime, "tail": child.tail.decode("latin-1")}


def plans(spec: dict) -> list[confine.Plan]:
    """The plans to try, strongest first (`spec["namespaces"]` narrows them, for tests of the fallback)."""
    return [confine.Plan(namespaces=bool(ns), cpu_seconds=spec["cpu"], memory_bytes=spec["memory"])
            for ns in spec.get("namespaces", (True, False))]


def probe(batch: Batch, spec: dict) -> tuple[confine.Plan | None, list[str] | str]:
    """The first plan under which a trivial program runs to the end and the layers it has, or None and why
    no plan works."""
    if confine.arch() is None:
        return None, f"no seccomp filter for this machine ({os.uname().machine})"
    try:
        abi = confine.landlock_abi()
    except OSError as exc:
        return None, str(exc)
    failed: list[str] = []
    for plan in plans(spec):
        [rec] = batch.run(["pass"], plan, 5.0, 1)
        if rec["started"] and rec["exit"] == 0:
            spaces = "user/mount/net/ipc namespaces" if plan.namespaces else "no namespaces" + "".join(
                f" ({why})" for why in failed[:1])
            return plan, ["seccomp", f"Landlock ABI {abi}", spaces, "rlimits"]
        failed.append(rec["setup"] or f"a trivial program ended with exit {rec['exit']}, signal {rec['signal']}")
    return None, "; ".join(dict.fromkeys(failed))


def main() -> None:
    spec = json.loads(sys.stdin.buffer.read())
    sys.path[:] = [p for p in sys.path if p != spec["src"]]  # the program sees the standard library only
    batch = Batch(os.getcwd(), list(sys.path), bool(spec["tripwire"]))
    plan, layers = probe(batch, spec)
    out: dict[str, object] = {"plan": None, "reason": layers, "records": []}
    if plan is not None:
        records = batch.run(spec["programs"], plan, spec["timeout"], spec["jobs"])
        out = {"plan": layers, "reason": "", "records": records}
    sys.stdout.write(json.dumps(out))
