"""Run untrusted Python programs (a language model's samples) in an OS-enforced sandbox, or not at all.

`run_programs(programs, timeout=1.0)` starts one trusted worker (`python -I -S`, `limitlab.sandbox.worker`)
in a fresh temporary folder; it forks one child per program, `jobs` at a time. Before a line of the
program runs, the child confines itself (`limitlab.sandbox.confine`) and the parent judges the outcome
from what the kernel reports, never from what the program says.

Threat model. The programs are hostile-or-clumsy Python source; the machine's kernel and the worker are
trusted. Enforced by the kernel, for every program:
- seccomp-bpf (`limitlab.sandbox.seccomp`): no new process or exec, no ptrace or other process's memory,
  no socket or socketpair of any family, no namespace or mount change, no bpf/io_uring/keyctl/perf/
  userfaultfd/personality/prctl, no chmod/chown/utime/xattr change, no signal to another process (kill,
  tgkill, fcntl F_SETOWN), no priority, affinity or resource-limit change of another process, no *at
  call through a directory handle (dir_fd); a refused call kills the process (SIGSYS) on the spot, so
  it cannot be caught. Calls of another ABI (i386, x32) kill too, newer calls than the table fail (ENOSYS);
- Landlock (ABI >= 3): the standard library and shared-library folders readable, the program's own folder
  read and write, nothing else reachable (no /etc, /proc, /home or the caller's folder: EACCES); no TCP
  (ABI >= 4), no signal or abstract unix socket out of the domain (ABI >= 6);
- where the kernel allows unprivileged namespaces: a new user namespace without capabilities, a network
  namespace with no interface up, a private IPC namespace, and a mount namespace whose program folder is a
  16 MB tmpfs that disappears with the process;
- rlimits (soft = hard): CPU seconds, address space (`memory_mb`), 1 MB per file, 64 open files, 32
  threads (in the user namespace), no core dumps; the worker kills a program at `timeout` seconds of wall
  time, and a program outliving its worker dies with it (PR_SET_PDEATHSIG). Only descriptors 0-2 are
  open: stdin and stdout are /dev/null, stderr a pipe that only the worker reads, keeping its last 4 KB.
The verdict comes from the kernel, read by the parent: SIGSYS is "blocked", a kill at the deadline or
at the CPU limit is "timeout", exit 0 is "ok", anything else "error" (for exit 1, with the exception's
name from the wrapper's last stderr line: a label only). A program can make its own outcome worse (a fake
name, a self-inflicted SIGSYS), never better: nothing it writes is read as "ok". It cannot write to the
worker or the caller, and garbage on stderr, or a malformed record, is an "error", never a crash.

A tripwire only (`limitlab.sandbox.tripwire`): a PEP 578 audit hook refuses opening paths outside the
folder, sockets, processes, ctypes and the like, and names the attempt; it refuses by a system call the
filter kills, so that too cannot be caught. It turns an attempt the kernel answers with a catchable error
(a Landlock EACCES, e.g. sqlite3 opening an outside file) into "blocked", but a program that reaches into
its interpreter can switch it off; the kernel's rules above then still hold.

The price of the filter: ordinary calls it forbids end "blocked" even inside the program's own folder:
chmod/utime (shutil.copy's copymode, Path.touch on a file), os.open(dir_fd=...), os.fwalk, asyncio's
event loop (a socketpair), SQLite as root outside a user namespace (it fchowns its files).

Out of scope: kernel exploits (the filter narrows, not removes, the kernel's surface); the metadata of
outside paths (stat, access, readlink: Landlock does not cover them); timing and other side channels;
denial of service within the limits (memory pressure within `memory_mb` per program, CPU within `timeout`,
the kernel's audit log line per killed program); a program that switched the tripwire off and catches a
kernel refusal (EACCES) may end "ok", having changed nothing outside its folder.

Where the kernel offers too little (not Linux, no seccomp table for the CPU (x86_64 and aarch64 have one),
no Landlock ABI >= 3, i.e. Linux < 6.2), nothing is executed: `run_programs` raises SandboxUnavailableError
(a caller that forgot to check cannot mistake "nothing ran" for "nothing ran to the end"), and
`sandbox_available()` says so beforehand, cheaply. A single program whose confinement failed (after the
sandbox worked for a trivial one) is "not-run", with the reason. Namespaces are a layer on top: where
they are refused (containers, AppArmor's restriction of unprivileged user namespaces) programs run under
seccomp, Landlock and the rlimits alone, in a folder on disk (bounded by 1 MB a file and by time only).
"""
from __future__ import annotations

import functools
import json
import math
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from limitlab.errors import ConfigError, LimitlabError
from limitlab.sandbox.tripwire import BLOCKED_MARK, ERROR_MARK

Status = Literal["ok", "error", "timeout", "blocked", "not-run"]
STATUSES: tuple[str, ...] = ("ok", "error", "timeout", "blocked", "not-run")
_SRC = str(Path(__file__).resolve().parent.parent)  # the folder holding the limitlab package
_BOOT = "import sys; sys.path.insert(0, {src!r}); from limitlab.sandbox.worker import main; main()"
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.]{0,79}")


@dataclass(frozen=True)
class Outcome:
    """What happened to one program: its status and a label ("error": the exception type; "blocked": what it
    tried; "not-run": why nothing ran; else "")."""

    status: Status
    error: str = ""


def _last(tail: str, mark: bytes) -> str:
    """The text after the last `mark` in a stderr tail, cut at its line end; "" if there is none."""
    marker = mark.decode("latin-1")
    at = tail.rfind(marker)
    return tail[at + len(marker):].split("\n", 1)[0] if at >= 0 else ""


def _printable(text: str) -> str:
    return "".join(c if c.isprintable() and c.isascii() else "?" for c in text)[:200]


def judge(record: object, cpu_limit: float) -> Outcome:
    """One worker record as an Outcome (see the module docstring); anything malformed is an "error"."""
    if not isinstance(record, dict):
        return Outcome("error", "no record")
    if not record.get("started"):
        return Outcome("not-run", "sandbox setup failed: " + _printable(str(record.get("setup", ""))))
    sig, code, cpu, tail = (record.get(k) for k in ("signal", "exit", "cpu", "tail"))
    if not (isinstance(tail, str) and isinstance(cpu, (int, float)) and (sig is None) != (code is None)
            and all(x is None or (isinstance(x, int) and not isinstance(x, bool)) for x in (sig, code))):
        return Outcome("error", "malformed record")  # not what the worker writes: trust none of it
    if record.get("killed") or sig == signal.SIGXCPU or (sig == signal.SIGKILL and cpu >= cpu_limit):
        return Outcome("timeout")
    if sig == signal.SIGSYS:
        return Outcome("blocked", _printable(_last(tail, BLOCKED_MARK)) or "a system call the sandbox forbids")
    if sig is not None:
        try:
            return Outcome("error", f"signal {signal.Signals(sig).name}")
        except ValueError:
            return Outcome("error", f"signal {sig}")
    if code == 0:
        return Outcome("ok")
    name = _last(tail, ERROR_MARK) if code == 1 else ""
    return Outcome("error", name if _NAME.fullmatch(name) else f"exit status {code}")


class SandboxUnavailableError(LimitlabError, RuntimeError):
    """Generated code cannot run here under the OS sandbox (nothing was executed), or the sandbox's worker
    failed on the way (`lost`: programs may have run, under the sandbox, but no outcome is known)."""

    def __init__(self, reason: str, *, lost: bool = False) -> None:
        end = "no outcome is known" if lost else "nothing was executed"
        super().__init__(f"no OS sandbox for generated code ({reason}); it needs Linux >= 6.2 with Landlock and "
                         f"seccomp on x86_64 or aarch64; {end}")
        self.reason = reason


def _worker(programs: list[str], *, timeout: float, memory_mb: int, jobs: int, tripwire: bool = True,
            namespaces: tuple[bool, ...] = (True, False)) -> dict:
    """The worker's report on `programs` (with the layers in force), or SandboxUnavailableError. `namespaces`:
    the plans the worker may use (with, then without namespaces); tests narrow it to check the fallback."""
    if sys.platform != "linux":
        raise SandboxUnavailableError(f"this is {sys.platform}")
    spec = {"programs": programs, "timeout": timeout, "cpu": math.ceil(timeout) + 1, "memory": memory_mb << 20,
            "jobs": jobs, "tripwire": tripwire, "namespaces": namespaces, "src": _SRC}
    budget = math.ceil(len(programs) / jobs) * (timeout + 5.0) + 30  # a generous ceiling for the worker itself
    root = tempfile.mkdtemp(prefix="limitlab-sandbox-")
    try:
        proc = subprocess.run([sys.executable, "-I", "-S", "-c", _BOOT.format(src=_SRC)], cwd=root,
                              env={"PATH": os.defpath}, input=json.dumps(spec).encode(), capture_output=True,
                              timeout=budget, start_new_session=True)
    except subprocess.TimeoutExpired:
        raise SandboxUnavailableError(f"the sandbox worker did not finish in {budget:.0f} s", lost=True) from None
    except OSError as exc:
        raise SandboxUnavailableError(f"the sandbox worker could not start: {exc}") from None
    finally:
        shutil.rmtree(root, ignore_errors=True)
    try:
        out = json.loads(proc.stdout)
        if not isinstance(out, dict) or not isinstance(out.get("records"), list):
            raise ValueError("not a worker report")
    except ValueError:
        err = proc.stderr.decode(errors="replace").strip().splitlines()
        why = _printable(err[-1] if err else "no message")
        raise SandboxUnavailableError(f"the sandbox worker failed (exit {proc.returncode}): {why}", lost=True) from None
    if not isinstance(out.get("plan"), list):
        raise SandboxUnavailableError(_printable(str(out.get("reason"))))
    return out


@functools.cache
def _probe() -> tuple[str | None, tuple[str, ...]]:
    try:
        out = _worker(["pass"], timeout=1.0, memory_mb=256, jobs=1)
    except SandboxUnavailableError as exc:
        return exc.reason, ()
    return None, tuple(_printable(str(x)) for x in out["plan"])


def sandbox_available() -> str | None:
    """None if generated code can run here under the OS sandbox, else the reason it cannot (found once by
    starting the sandbox on a trivial program, then remembered for this process)."""
    return _probe()[0]


def sandbox_layers() -> tuple[str, ...]:
    """The layers in force on this machine (e.g. seccomp, the Landlock ABI, namespaces); () if none."""
    return _probe()[1]


def run_programs(programs: Sequence[str], *, timeout: float = 1.0, memory_mb: int = 512, jobs: int = 2,
                 tripwire: bool = True) -> list[Outcome]:
    """Run each program in the sandbox of the module docstring; one `Outcome` per program, in order.
    Raises SandboxUnavailableError, having run nothing, where there is no usable sandbox (ask
    `sandbox_available()` first to avoid it); a program whose own confinement failed is "not-run".
    `tripwire=False` leaves out the audit hook, to test what the kernel's rules alone hold."""
    if isinstance(programs, str) or not all(isinstance(p, str) for p in programs):
        raise ConfigError(f"programs={type(programs).__name__}; expected a sequence of Python source strings")
    if not (isinstance(timeout, (int, float)) and 0 < timeout <= 60):
        raise ConfigError(f"timeout={timeout!r}; expected 0 < timeout <= 60 seconds")
    if not (isinstance(memory_mb, int) and 64 <= memory_mb <= 65536 and isinstance(jobs, int) and 1 <= jobs <= 64):
        raise ConfigError(f"memory_mb={memory_mb!r}, jobs={jobs!r}; expected integers, 64 <= memory_mb <= 65536 "
                          "and 1 <= jobs <= 64")
    if not programs:
        return []
    return _run(list(programs), timeout=float(timeout), memory_mb=memory_mb, jobs=jobs, tripwire=tripwire)


def _run(programs: list[str], *, timeout: float, memory_mb: int, jobs: int, tripwire: bool = True,
         namespaces: tuple[bool, ...] = (True, False)) -> list[Outcome]:
    out = _worker(programs, timeout=timeout, memory_mb=memory_mb, jobs=jobs, tripwire=tripwire, namespaces=namespaces)
    records = out["records"] + [None] * (len(programs) - len(out["records"]))
    return [judge(r, math.ceil(timeout) + 1) for r in records[:len(programs)]]
