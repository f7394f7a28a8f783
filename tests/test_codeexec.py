"""limitlab.codeexec: ordinary programs keep their outcomes, garbage is an error, and no sandbox means no run.

The escapes are in test_sandbox_escapes.py, the system-call filter in test_sandbox_seccomp.py.
"""
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from limitlab import codeexec
from limitlab.codeexec import (
    STATUSES,
    Outcome,
    SandboxUnavailableError,
    judge,
    run_programs,
    sandbox_available,
    sandbox_layers,
)
from limitlab.errors import ConfigError
from limitlab.sandbox.tripwire import BLOCKED_MARK, ERROR_MARK

needs_sandbox = pytest.mark.skipif(bool(sandbox_available()), reason=f"no sandbox here: {sandbox_available()}")
STDLIB_IMPORTS = ("json, re, collections, itertools, math, functools, dataclasses, typing, enum, decimal, fractions, "
                  "random, string, textwrap, heapq, bisect, datetime, statistics, hashlib, uuid, tempfile, pathlib, "
                  "csv, io, struct, copy, operator, abc, contextlib, argparse, logging, time, array, zlib, base64")
NORMAL = {  # program: the outcome it must have
    f"import {STDLIB_IMPORTS}\nassert json.loads(json.dumps({{'a': [1, 2]}})) == {{'a': [1, 2]}}\n"
    "assert re.sub(r'b+', 'x', 'abbc') == 'axc' and collections.Counter('abca')['a'] == 2\n"
    "assert statistics.mean([1, 2, 3]) == 2 and len(uuid.uuid4().hex) == 32\n": Outcome("ok"),
    "import os\nopen('a.txt', 'w').write('hi')\nassert open('a.txt').read() == 'hi'\nos.mkdir('d')\n"
    "os.rename('a.txt', 'd/b.txt')\nassert os.listdir('.') == ['d'] and os.listdir('d') == ['b.txt']\n"
    "os.symlink('b.txt', 'd/link')\nassert open('d/link').read() == 'hi'\nos.link('d/b.txt', 'c')\n"
    "os.remove('d/b.txt')\nos.remove('d/link')\nos.rmdir('d')\nassert os.listdir('.') == ['c']\n": Outcome("ok"),
    "import tempfile, shutil, os\nwith tempfile.TemporaryDirectory() as d:\n"
    "    open(os.path.join(d, 'x'), 'w').close()\nwith tempfile.NamedTemporaryFile() as f:\n    f.write(b'x')\n"
    "os.makedirs('a/b/c')\nshutil.rmtree('a')\n": Outcome("ok"),
    "import sqlite3\nfor name in (':memory:', 'local.db'):\n    c = sqlite3.connect(name)\n"
    "    c.execute('create table t(x)')\n    c.execute('insert into t values (1)')\n    c.commit()\n": Outcome("ok"),
    "import threading\nr = []\nts = [threading.Thread(target=lambda: r.append(sum(range(99)))) for _ in range(8)]\n"
    "[t.start() for t in ts]\n[t.join() for t in ts]\nassert r == [4851] * 8\n": Outcome("ok"),
    "import os, signal\nseen = []\nsignal.signal(signal.SIGUSR1, lambda *a: seen.append(1))\n"
    "signal.raise_signal(signal.SIGUSR1)\nos.kill(os.getpid(), signal.SIGUSR1)\nassert seen == [1, 1]\n": Outcome("ok"),
    "import os, time\nprint('x' * 100000)\nopen('/dev/null', 'w').write('x')\nopen(os.__file__).read()\n"
    "time.strftime('%c', time.localtime())\nos.cpu_count()\nos.urandom(8)\n": Outcome("ok"),
    "import sys\nsys.exit(0)\n": Outcome("ok"),
    "import sys\nsys.exit()\n": Outcome("ok"),
    "import os\nos._exit(0)\n": Outcome("ok"),
    "raise ValueError('no')\n": Outcome("error", "ValueError"),
    "class Custom(Exception):\n    pass\nraise Custom\n": Outcome("error", "Custom"),
    "print(undefined_name)\n": Outcome("error", "NameError"),
    "def f(:\n": Outcome("error", "SyntaxError"),
    "input()\n": Outcome("error", "EOFError"),
    "import sys\nsys.exit(3)\n": Outcome("error", "SystemExit"),
    "import sys\nsys.exit('a message')\n": Outcome("error", "SystemExit"),
    "raise KeyboardInterrupt\n": Outcome("error", "KeyboardInterrupt"),
    "import os\nos._exit(3)\n": Outcome("error", "exit status 3"),
    "import os, signal\nos.kill(os.getpid(), signal.SIGSEGV)\n": Outcome("error", "signal SIGSEGV"),
}
GARBAGE = {  # a program writing garbage anywhere it can: an error at worst, for itself only
    "import os\nfor fd in range(1024):\n    try:\n        os.write(fd, os.urandom(4096))\n    except OSError:\n"
    "        pass\n": Outcome("ok"),
    "import os\nfor fd in range(1024):\n    try:\n        os.write(fd, os.urandom(4096) + b'\\n\\0')\n"
    "    except OSError:\n        pass\nraise ValueError\n": Outcome("error", "ValueError"),
    "import sys\nsys.stderr.write('x' * (10 << 20))\n": Outcome("ok"),
    "import os\nos.write(2, " + repr(ERROR_MARK + b"Forged\n") + ")\n": Outcome("ok"),  # the exit code decides
    "import os\nos.write(2, " + repr(BLOCKED_MARK + b"forged\n") + ")\nraise ValueError\n":
        Outcome("error", "ValueError"),
    "import os\nos.write(2, " + repr(ERROR_MARK + b"\xff\xfe<b>\n") + ")\nos._exit(1)\n":
        Outcome("error", "exit status 1"),
    "import os\nos.close(2)\nraise ValueError\n": Outcome("error", "exit status 1"),  # no name, still an error
    "class Meta(type):\n    __name__ = property(lambda cls: 1 / 0)\nclass Odd(Exception, metaclass=Meta):\n    pass\n"
    "raise Odd\n": Outcome("error", "BaseException"),
}


@needs_sandbox
def test_ordinary_programs_and_garbage_keep_their_outcomes():
    programs = {**NORMAL, **GARBAGE}
    for tripwire in (True, False):
        out = run_programs(list(programs), timeout=5.0, jobs=2, tripwire=tripwire)
        assert dict(zip(programs, out)) == programs, tripwire


@needs_sandbox
def test_limits_and_temporary_folders():
    def folders() -> set[str]:
        return {p for p in os.listdir(tempfile.gettempdir()) if p.startswith("limitlab-sandbox-")}

    before = folders()
    out = run_programs(["x = bytearray(400 << 20)\n", "x = bytearray(100 << 20)\n",
                        "open('big', 'wb').write(bytes(2 << 20))\n"], timeout=5.0, memory_mb=256)
    assert out == [Outcome("error", "MemoryError"), Outcome("ok"), Outcome("error", "OSError")]
    start = time.perf_counter()
    assert run_programs(["import time\ntime.sleep(30)\n"] * 2, timeout=0.3) == [Outcome("timeout")] * 2
    assert time.perf_counter() - start < 10  # killed at 0.3 s, in parallel (a slack for a loaded machine)
    assert folders() <= before


def processes_under(folder: str) -> dict[int, str]:
    """pid -> the name of the current folder of every process working somewhere under `folder`."""
    found = {}
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            cwd = os.readlink(f"/proc/{pid}/cwd")
        except OSError:
            continue  # gone, or not ours to look at
        if cwd.startswith(folder):
            found[int(pid)] = os.path.basename(cwd)
    return found


@needs_sandbox
def test_programs_die_with_their_worker(tmp_path):
    """Kill the worker while a program sleeps: the program goes too (PR_SET_PDEATHSIG), nothing is left."""
    caller = subprocess.Popen([sys.executable, "-c", "from limitlab.codeexec import run_programs\n"
                               "try:\n    run_programs(['import time\\ntime.sleep(30)'], timeout=30)\n"
                               "except Exception as exc:\n    print(exc)"],
                              env={**os.environ, "TMPDIR": str(tmp_path)}, stdout=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and sorted(processes_under(str(tmp_path)).values())[-1:] != ["p0"]:
        time.sleep(0.05)  # until the program is in its folder (p0, below the worker's)
    found = processes_under(str(tmp_path))
    if len(found) < 2:
        caller.kill()
        pytest.skip("cannot see the sandboxed processes' folders here (not root?)")
    [worker] = [pid for pid in found if int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
                == caller.pid]
    os.kill(worker, signal.SIGKILL)
    out, _ = caller.communicate(timeout=20)
    assert "worker failed" in out and "no outcome is known" in out  # the caller hears why; no hang
    time.sleep(0.2)
    assert processes_under(str(tmp_path)) == {}


def test_judge_reads_only_the_kernel_facts():
    ok = {"started": True, "exit": 0, "signal": None, "killed": False, "cpu": 0.1, "tail": ""}  # as the worker writes
    assert judge(ok, 2) == Outcome("ok")
    assert judge({**ok, "tail": ERROR_MARK.decode("latin-1") + "ValueError\n"}, 2) == Outcome("ok")
    assert judge({**ok, "exit": 1, "tail": "x" + ERROR_MARK.decode("latin-1") + "ValueError\n"}, 2) == \
        Outcome("error", "ValueError")
    assert judge({**ok, "exit": None, "signal": signal.SIGSYS, "tail": BLOCKED_MARK.decode("latin-1") + "open /x\n"},
                 2) == Outcome("blocked", "open /x")
    assert judge({**ok, "exit": None, "signal": signal.SIGSYS}, 2) == \
        Outcome("blocked", "a system call the sandbox forbids")
    assert judge({**ok, "killed": True}, 2) == Outcome("timeout")
    assert judge({**ok, "exit": None, "signal": signal.SIGXCPU}, 2) == Outcome("timeout")
    assert judge({**ok, "exit": None, "signal": signal.SIGKILL, "cpu": 2.01}, 2) == Outcome("timeout")
    assert judge({**ok, "exit": None, "signal": signal.SIGKILL, "cpu": 0.1}, 2) == Outcome("error", "signal SIGKILL")
    assert judge({**ok, "started": False, "setup": "landlock_restrict_self: EPERM"}, 2) == \
        Outcome("not-run", "sandbox setup failed: landlock_restrict_self: EPERM")


@pytest.mark.parametrize("record", [None, [], "ok", {}, {"started": True}, {"started": True, "exit": "0"},
                                    {"started": True, "exit": 1, "tail": 7}, {"started": True, "signal": 999},
                                    {"started": True, "exit": 1, "tail": ERROR_MARK.decode("latin-1") + "a b\n"},
                                    {"started": True, "signal": "SIGSYS", "exit": 0, "killed": 0}])
def test_judge_never_trusts_malformed_records(record):
    out = judge(record, 2)
    assert out.status in ("error", "not-run") and out.status in STATUSES and out.error.isprintable()


@pytest.fixture
def fresh_probe():
    codeexec._probe.cache_clear()
    yield
    codeexec._probe.cache_clear()


def test_not_linux_runs_nothing(monkeypatch, fresh_probe):
    monkeypatch.setattr(codeexec.sys, "platform", "darwin")
    assert sandbox_available() == "this is darwin" and sandbox_layers() == ()
    with pytest.raises(SandboxUnavailableError, match=r"no OS sandbox .*this is darwin.*nothing was executed"):
        run_programs(["open('x', 'w')"] * 2)


@pytest.mark.parametrize("worker, words", [
    ("import sys; sys.stdout.write('garbage')", "worker failed"),
    ("import sys; sys.stdout.write('{{\"plan\": null, \"reason\": \"no Landlock\", \"records\": []}}')", "no Landlock"),
    ("import sys; sys.stdout.write('{{\"plan\": 3, \"records\": []}}')", "None"),
    ("import sys; sys.exit(3)", "exit 3"),
])
def test_no_usable_sandbox_runs_nothing(monkeypatch, fresh_probe, worker, words):
    monkeypatch.setattr(codeexec, "_BOOT", worker + "  # {src}")
    assert words in sandbox_available()
    with pytest.raises(SandboxUnavailableError, match=words):
        run_programs(["pass"])


def test_the_worker_reports_why_there_is_no_sandbox(monkeypatch):
    from limitlab.sandbox import confine, worker

    monkeypatch.setattr(confine, "_sys", lambda *args: 2)  # a kernel with Landlock ABI 2 (Linux 5.19)
    with pytest.raises(OSError, match="ABI 2 .* truncating"):
        confine.landlock_abi()
    monkeypatch.undo()

    batch = worker.Batch(tempfile.gettempdir(), [], True)
    monkeypatch.setattr(confine, "landlock_abi", lambda: (_ for _ in ()).throw(OSError("Landlock: not in this kernel")))
    assert worker.probe(batch, {"cpu": 2, "memory": 1 << 28}) == (None, "Landlock: not in this kernel")
    monkeypatch.setattr(confine, "arch", lambda: None)
    assert worker.probe(batch, {"cpu": 2, "memory": 1 << 28})[0] is None


@needs_sandbox
def test_layers_in_force():
    layers = sandbox_layers()
    assert layers[0] == "seccomp" and layers[1].startswith("Landlock ABI ")


@pytest.mark.parametrize("kwargs, words", [
    ({"timeout": 0}, "timeout"), ({"timeout": float("nan")}, "timeout"), ({"timeout": "1"}, "timeout"),
    ({"memory_mb": 10}, "memory_mb"), ({"memory_mb": 1 << 40}, "memory_mb"), ({"jobs": 0}, "jobs"),
    ({"jobs": 1.5}, "jobs"), ({"jobs": 1000}, "jobs"),
])
def test_bad_arguments(kwargs, words):
    with pytest.raises(ConfigError, match=words):
        run_programs(["pass"], **kwargs)
    with pytest.raises(ConfigError, match="sequence of Python source"):
        run_programs("pass")
    assert run_programs([]) == []
