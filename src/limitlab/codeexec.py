"""Run untrusted Python programs (e.g. a language model's samples) without letting them touch anything.

`run_programs(programs, timeout=1.0)` starts ONE isolated interpreter (`python -I -S`: no environment
variables, no user or site packages, no current folder on the path) in a fresh temporary folder. That
worker forks one child per program; each child, before it runs a line of the program:
- moves into its own new session and its own empty folder under the temporary folder;
- sets resource limits: address space (`memory_mb`), CPU seconds, file size (1 MB), open files;
- points stdin/stdout/stderr at /dev/null;
- installs an audit hook (PEP 578, `sys.addaudithook`) that refuses: opening any path outside its folder
  (reading and listing the interpreter's own standard library excepted, so `import` works); any other
  file-system change, listing or `chdir` outside its folder; every `socket.*` event (no network);
  starting processes (`subprocess`, `os.system`, `os.exec*`, `os.spawn*`, `os.fork`, `pty`); signalling
  other processes; `ctypes` and `resource.setrlimit` (the ways around the hook and the limits).
The worker kills a child still running after `timeout` seconds of wall time (its whole process
group), and the caller kills the worker if it overruns; the temporary folder is deleted afterwards.

An audit hook is a tripwire, not a security boundary (PEP 578 says so): it is meant for programs
written by a character model, not by an adversary. Each outcome says whether the program finished
("ok"), raised ("error", with the exception's type), ran out of time ("timeout"), or tried something
refused ("blocked", even if it caught the refusal and carried on). POSIX only (fork, resource limits).
"""
from __future__ import annotations

import json
import math
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from limitlab.errors import ConfigError

Status = Literal["ok", "error", "timeout", "blocked"]
STATUSES: tuple[str, ...] = ("ok", "error", "timeout", "blocked")


@dataclass(frozen=True)
class Outcome:
    """What happened to one program: its status and, for "error", the exception type (else "")."""

    status: Status
    error: str = ""


# The worker: runs inside `python -I -S -c`, reads {"programs", "timeout", "memory", "jobs"} on stdin,
# writes one [status, error] per program on stdout. Kept free of any import outside the standard library.
_WORKER = r'''
import json, os, resource, signal, sys, time

spec = json.load(sys.stdin)
root = os.path.realpath(os.getcwd())
readable = sorted({os.path.realpath(p) for p in sys.path if p and os.path.exists(p)})
WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND
DENY = ("socket.", "subprocess.", "os.system", "os.exec", "os.spawn", "os.posix_spawn", "os.fork",
        "os.forkpty", "os.kill", "os.killpg", "os.setuid", "os.setgid", "os.chroot", "pty.", "ctypes.",
        "resource.setrlimit", "resource.prlimit", "sys.addaudithook", "signal.pthread_kill",
        "webbrowser.", "syslog.", "winreg.", "msvcrt.", "os.startfile")
PATH_EVENTS = {"os.remove", "os.rename", "os.rmdir", "os.mkdir", "os.chmod", "os.chown", "os.link",
               "os.symlink", "os.truncate", "os.utime", "os.listdir", "os.scandir", "os.chdir", "os.chflags",
               "os.lchmod", "os.lchflags", "os.mknod", "os.mkfifo", "os.setxattr", "os.removexattr",
               "os.listxattr", "os.getxattr", "glob.glob", "glob.glob/2", "shutil.rmtree", "shutil.copyfile",
               "shutil.copymode", "shutil.copystat", "shutil.copytree", "shutil.move", "shutil.chown",
               "shutil.make_archive", "shutil.unpack_archive", "tempfile.mkstemp", "tempfile.mkdtemp"}
READ_EVENTS = {"os.listdir", "os.scandir", "glob.glob", "glob.glob/2", "os.listxattr", "os.getxattr"}
BANNED_MODULES = {"ctypes", "_ctypes", "_posixsubprocess", "_xxsubinterpreters", "_testcapi", "_testinternalcapi"}


class Refused(RuntimeError):
    pass


def child(code, box, write_fd, timeout, memory):
    os.setsid()
    os.chdir(box)
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    cpu = math_ceil(timeout) + 1
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    resource.setrlimit(resource.RLIMIT_FSIZE, (1 << 20, 1 << 20))
    resource.setrlimit(resource.RLIMIT_NOFILE, (64, 64))
    tried = []

    def inside(path, base):
        return path == base or path.startswith(base + os.sep)

    def refuse(event):
        tried.append(event)
        raise Refused(f"sandbox: {event} is not allowed")

    def check_path(event, value):
        if not isinstance(value, (str, bytes, os.PathLike)):
            return
        real = os.path.realpath(os.fsdecode(value))
        if not (inside(real, box) or (event in READ_EVENTS and any(inside(real, r) for r in readable))):
            refuse(event + " " + real)

    def hook(event, args):
        if event == "open":
            path, mode, flags = (tuple(args) + (None, None, None))[:3]
            if path is None or isinstance(path, int):
                return
            real = os.path.realpath(os.fsdecode(path))
            if inside(real, box):
                return
            write = (isinstance(mode, str) and any(c in mode for c in "wax+")) or (
                isinstance(flags, int) and flags > 0 and flags & WRITE_FLAGS)
            if not write and any(inside(real, r) for r in readable):
                return
            refuse("open " + real)
        elif event.startswith(DENY):
            refuse(event)
        elif event in PATH_EVENTS:
            for value in args:
                check_path(event, value)
        elif event == "import" and args[0] in BANNED_MODULES:
            refuse("import " + args[0])

    sys.addaudithook(hook)
    status, error = "ok", ""
    try:
        exec(compile(code, "<program>", "exec"), {"__name__": "__main__", "__builtins__": __builtins__})
    except SystemExit as exc:
        if exc.code not in (None, 0):
            status, error = "error", "SystemExit"
    except BaseException as exc:
        status, error = "error", type(exc).__name__
    if tried:
        status, error = "blocked", tried[0]
    os.write(write_fd, json.dumps([status, error]).encode()[:4000])
    os._exit(0)


def math_ceil(x):
    return int(x) + (int(x) != x)


def main():
    programs, timeout, memory, jobs = spec["programs"], spec["timeout"], spec["memory"], spec["jobs"]
    results = [None] * len(programs)
    running = {}  # pid -> (index, read fd, deadline)
    todo = list(range(len(programs)))[::-1]
    while todo or running:
        while todo and len(running) < jobs:
            k = todo.pop()
            box = os.path.join(root, f"p{k}")
            os.mkdir(box)
            r, w = os.pipe()
            pid = os.fork()
            if pid == 0:
                os.close(r)
                try:
                    child(programs[k], box, w, timeout, memory)
                finally:
                    os._exit(3)
            os.close(w)
            running[pid] = (k, r, time.monotonic() + timeout)
        time.sleep(0.002)
        for pid, (k, r, deadline) in list(running.items()):
            done, status = os.waitpid(pid, os.WNOHANG)
            if not done and time.monotonic() < deadline:
                continue
            if not done:
                try:
                    os.killpg(pid, signal.SIGKILL)
                except ProcessLookupError:  # not yet its own session leader
                    os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                results[k] = ["timeout", ""]
            else:
                message = os.read(r, 4096)
                if message:
                    results[k] = json.loads(message)
                elif os.WIFSIGNALED(status):
                    sig = os.WTERMSIG(status)
                    results[k] = ["timeout" if sig == signal.SIGXCPU else "error", f"signal {sig}"]
                else:
                    results[k] = ["error", "no result"]
                try:
                    os.killpg(pid, signal.SIGKILL)  # anything the program left behind in its session
                except (ProcessLookupError, PermissionError):
                    pass
            os.close(r)
            del running[pid]
    sys.stdout.write(json.dumps(results))


main()
'''


def run_programs(programs: Sequence[str], *, timeout: float = 1.0, memory_mb: int = 512, jobs: int = 2
                 ) -> list[Outcome]:
    """Run each program in the sandbox described in the module docstring; one `Outcome` per program."""
    if os.name != "posix":
        raise ConfigError(f"running generated programs needs a POSIX system (fork, resource limits); this is {os.name}")
    if not 0 < timeout <= 60:
        raise ConfigError(f"timeout={timeout}; expected 0 < timeout <= 60 seconds")
    if memory_mb < 64 or jobs < 1:
        raise ConfigError(f"memory_mb={memory_mb}, jobs={jobs}; expected memory_mb >= 64 and jobs >= 1")
    if not programs:
        return []
    root = tempfile.mkdtemp(prefix="limitlab-sandbox-")
    spec = {"programs": list(programs), "timeout": timeout, "memory": memory_mb << 20, "jobs": jobs}
    budget = math.ceil(len(programs) / jobs) * (timeout + 0.5) + 10  # a generous ceiling for the worker itself
    proc = subprocess.Popen([sys.executable, "-I", "-S", "-c", _WORKER], cwd=root, env={"PATH": os.defpath},
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True)
    try:
        out, err = proc.communicate(json.dumps(spec).encode(), timeout=budget)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        return [Outcome("timeout", "worker overran")] * len(programs)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        shutil.rmtree(root, ignore_errors=True)
    if proc.returncode != 0:
        raise RuntimeError(f"sandbox worker failed (exit {proc.returncode}): {err.decode(errors='replace')[-500:]}")
    return [Outcome(status, error) for status, error in json.loads(out)]
