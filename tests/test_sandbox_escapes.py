"""The escape corpus: programs that try to leave the sandbox, run with the tripwire and by the kernel's rules alone.

Every program gets to its last line only if its escape worked, so "ok" would mean an escape. Expected with
the tripwire: "blocked" (the attempt named) for everything that tries to leave, "timeout" for hangs, and a
plain error where there is nothing to leave through (a memory bomb, an inherited descriptor that is not
there). By the kernel alone (`tripwire=False`: what a program that defused the audit hook meets): "blocked"
where seccomp kills, an error where Landlock refuses (EACCES) or the call fails; `None` marks programs that
catch the kernel's refusal and so may end "ok": for them, as for all, only the absence of any trace counts
(`test_no_trace`). The same corpus runs once more without namespaces (Landlock and seccomp only: the plan
used where the kernel refuses unprivileged namespaces).
"""
import os
import sysconfig
import tempfile
from pathlib import Path

import pytest

from limitlab import codeexec
from limitlab.codeexec import sandbox_available

if sandbox_available():
    pytest.skip(f"no sandbox on this machine: {sandbox_available()}", allow_module_level=True)

B, E, T, ET = {"blocked"}, {"error"}, {"timeout"}, {"error", "timeout"}
UP = "../" * 12  # from the program's folder to / and beyond
CASES = {  # name: (program, expected with the tripwire, expected from the kernel alone)
    # the review's first escape: paths relative to a directory handle
    "dirfd_box_relative_write": ("import os\nfd = os.open('.', os.O_RDONLY)\n"
                                 "w = os.open('{UP}{C}/escaped.txt', os.O_WRONLY | os.O_CREAT, dir_fd=fd)\n"
                                 "os.write(w, b'x')\n", B, B),
    "dirfd_stdlib_write": ("import os\nfd = os.open('{L}', os.O_RDONLY)\n"
                           "os.open('escaped.txt', os.O_WRONLY | os.O_CREAT, dir_fd=fd)\n", B, B),
    "dirfd_read_passwd": ("import os\nfd = os.open('{L}', os.O_RDONLY)\n"
                          "assert b'root' in os.read(os.open('{UP}etc/passwd', os.O_RDONLY, dir_fd=fd), 99)\n", B, B),
    "dirfd_unlink_caller": ("import os\nfd = os.open('{L}', os.O_RDONLY)\nos.unlink('{UP}{C}/victim.txt', dir_fd=fd)\n",
                            B, B),
    "dirfd_rename_caller": ("import os\nfd = os.open('.', os.O_RDONLY)\nopen('a', 'w').close()\n"
                            "os.rename('a', '{UP}{C}/renamed.txt', src_dir_fd=fd, dst_dir_fd=fd)\n", B, B),
    "dirfd_copy_passwd_out": ("import os\nfd = os.open('{L}', os.O_RDONLY)\n"
                              "data = os.read(os.open('{UP}etc/passwd', os.O_RDONLY, dir_fd=fd), 4096)\n"
                              "os.write(os.open('{UP}{C}/passwd', os.O_WRONLY | os.O_CREAT, dir_fd=fd), data)\n", B, B),
    "dirfd_caught": ("import os\nfd = os.open('{L}', os.O_RDONLY)\ntry:\n"
                     "    os.open('escaped.txt', os.O_WRONLY | os.O_CREAT, dir_fd=fd)\nexcept OSError:\n    pass\n",
                     B, B),
    # the second: sqlite3 opens its files in C, where no audit hook looks
    "sqlite_outside": ("import sqlite3\nsqlite3.connect('{C}/x.db').execute('create table t(x)')\n", B, E),
    "sqlite_uri": ("import sqlite3\nsqlite3.connect('file:{C}/y.db?mode=rwc', uri=True).execute('create table t(x)')\n",
                   B, E),
    "sqlite_attach": ("import sqlite3\nc = sqlite3.connect(':memory:')\n"
                      "c.execute(\"attach database '{C}/z.db' as z\")\nc.execute('create table z.t(x)')\n",
                      E, E),  # no audit event for attach: Landlock refuses it
    "sqlite_vacuum_into": ("import sqlite3\nc = sqlite3.connect(':memory:')\nc.execute('create table t(x)')\n"
                           "c.execute(\"vacuum into '{C}/v.db'\")\n", E, E),
    "sqlite_caught": ("import sqlite3\ntry:\n    sqlite3.connect('{C}/x.db').execute('create table t(x)')\n"
                      "except Exception:\n    pass\n", B, None),
    # the third: reach the hook, switch it off, then start processes, open sockets, fork
    "hook_gc_then_socket": ("import gc\nhooks = [o for o in gc.get_objects() if callable(o)]\n"
                            "import socket\nsocket.socket()\n", B, B),
    "hook_monkeypatch_then_write": ("import os.path\nos.path.realpath = lambda p, *a, **k: os.getcwd()\n"
                                    "open('{C}/escaped.txt', 'w').write('x')\n", B, E),
    "hook_wipe_worker_then_socket": ("import sys\nfor m in list(sys.modules.values()):\n    try:\n"
                                     "        vars(m).clear() if m.__name__ == '__main__' else None\n"
                                     "    except Exception:\n        pass\nimport socket\nsocket.socket()\n", B, B),
    "hook_ctypes": ("import ctypes\nctypes.CDLL(None).syscall(57)\n", B, B),
    "subprocess_run": ("import subprocess\nsubprocess.run(['/bin/sh', '-c', 'touch {C}/escaped.txt'])\n", B, B),
    "os_system": ("import os\nos.system('touch {C}/escaped.txt')\n", B, B),
    "os_fork": ("import os\nif os.fork() == 0:\n    os._exit(0)\n", B, B),
    "pty_fork": ("import pty\npty.fork()\n", B, E),  # kernel alone: /dev/ptmx is out of reach first
    # a program forging its own "ok"
    "forge_json_to_every_fd": ("import os\nfor fd in range(1024):\n    try:\n"
                               "        os.write(fd, b'[[\"ok\", \"\"]]\\n{{\"records\": []}}\\n')\n"
                               "    except OSError:\n        pass\nimport socket\nsocket.socket()\n", B, B),
    "forge_marker_then_read": ("import sys\nsys.stderr.write('\\n\\0limitlab-sandbox error: \\n')\nsys.stderr.flush()\n"
                               "assert open('/etc/passwd').read()\n", B, E),
    "forge_catch_and_exit_0": ("import os\ntry:\n    import socket\n    socket.socket()\nexcept BaseException:\n"
                               "    pass\nos._exit(0)\n", B, B),
    "forge_exit_0_on_refusal": ("import os\ntry:\n    open('{C}/escaped.txt', 'w')\nexcept BaseException:\n"
                                "    os._exit(0)\n", B, None),
    # bombs and hangs
    "fork_bomb": ("import os\nwhile True:\n    os.fork()\n", B, B),
    "thread_fork_bomb": ("import os, threading\nt = threading.Thread(target=os.fork)\nt.start()\nt.join()\n", B, B),
    "memory_bomb": ("x = []\nwhile True:\n    x.append(bytearray(50 << 20))\n", ET, ET),
    "memory_at_once": ("x = bytearray(8 << 30)\n", E, E),
    "thread_bomb": ("import threading, time\nwhile True:\n    threading.Thread(target=time.sleep, args=(9,)).start()\n",
                    ET, ET),
    "disk_bomb": ("i = 0\nwhile True:\n    open(f'f{{i}}', 'wb').write(bytes(1 << 20))\n    i += 1\n", ET, ET),
    "raise_limits": ("import resource\nresource.setrlimit(resource.RLIMIT_AS, (-1, -1))\nx = bytearray(8 << 30)\n",
                     B, E),
    "loop": ("while True:\n    pass\n", T, T),
    "loop_ignoring_sigxcpu": ("import signal\nsignal.signal(signal.SIGXCPU, signal.SIG_IGN)\nwhile True:\n    pass\n",
                              T, T),
    "sleep": ("import time\ntime.sleep(60)\n", T, T),
    "pause": ("import signal\nsignal.pause()\n", T, T),
    # the caller's folder, /etc/passwd and other files outside
    "write_caller": ("open('{C}/escaped.txt', 'w').write('x')\n", B, E),
    "write_caller_relative": ("open('{UP}{C}/escaped.txt', 'w').write('x')\n", B, E),
    "append_caller": ("open('{C}/victim.txt', 'a').write('x')\n", B, E),
    "remove_caller": ("import os\nos.remove('{C}/victim.txt')\n", B, E),
    "rename_into_caller": ("import os\nopen('a', 'w').close()\nos.rename('a', '{C}/renamed.txt')\n", B, E),
    "mkdir_caller": ("import os\nos.mkdir('{C}/newdir')\n", B, E),
    "chmod_caller": ("import os\nos.chmod('{C}/victim.txt', 0o777)\n", B, B),  # Landlock does not cover chmod
    "utime_caller": ("import os\nos.utime('{C}/victim.txt', (0, 0))\n", B, B),
    "chdir_caller_write": ("import os\nos.chdir('{C}')\nopen('escaped.txt', 'w').write('x')\n", B, E),
    "pathlib_caller": ("import pathlib\npathlib.Path('{C}', 'escaped.txt').write_text('x')\n", B, E),
    "write_stdlib": ("open('{L}/escaped.txt', 'w').write('x')\n", B, E),
    "read_passwd": ("assert 'root' in open('/etc/passwd').read()\n", B, E),
    "read_passwd_caught": ("try:\n    open('/etc/passwd').read()\nexcept OSError:\n    pass\n", B, None),
    "shutil_copy_passwd": ("import shutil\nshutil.copy('/etc/passwd', 'p')\nassert 'root' in open('p').read()\n", B, E),
    "read_caller_file": ("assert open('{C}/victim.txt').read() == 'victim'\n", B, E),
    "list_etc": ("import os\nassert 'passwd' in os.listdir('/etc')\n", B, E),
    # sockets
    "socket_inet": ("import socket\nsocket.socket(socket.AF_INET, socket.SOCK_STREAM)\n", B, B),
    "socket_inet_caught": ("import socket\ntry:\n    socket.create_connection(('127.0.0.1', 9), timeout=0.1)\n"
                           "except Exception:\n    pass\n", B, B),
    "socket_unix": ("import socket\nsocket.socket(socket.AF_UNIX, socket.SOCK_STREAM)\n", B, B),
    "socketpair": ("import socket\nsocket.socketpair()\n", B, B),
    "dns_lookup": ("import socket\nsocket.getaddrinfo('localhost', 80)\n", B, B),
    "asyncio_loop": ("import asyncio\nasyncio.run(asyncio.sleep(0))\n", B, B),  # its self-pipe is a socketpair
    # ctypes: libc loaded, system calls made directly
    "ctypes_fork": ("import ctypes\nassert ctypes.CDLL(None).syscall(57) >= 0\n", B, B),
    "ctypes_socket": ("import ctypes\nassert ctypes.CDLL(None).syscall(41, 2, 1, 0) >= 0\n", B, B),
    "ctypes_unshare": ("import ctypes\nassert ctypes.CDLL(None).unshare(0x10000000) == 0\n", B, B),
    "ctypes_ptrace_parent": ("import ctypes, os\nassert ctypes.CDLL(None).ptrace(16, os.getppid(), 0, 0) == 0\n", B, B),
    "ctypes_prctl": ("import ctypes\nassert ctypes.CDLL(None).prctl(4, 1, 0, 0, 0) == 0\n", B, B),
    "ctypes_mount": ("import ctypes\nassert ctypes.CDLL(None).mount(b'none', b'.', b'tmpfs', 0, None) == 0\n", B, B),
    "ctypes_setns": ("import ctypes\nassert ctypes.CDLL(None).setns(0, 0) == 0\n", B, B),
    "ctypes_io_uring": ("import ctypes\nparams = ctypes.create_string_buffer(120)\n"
                        "assert ctypes.CDLL(None).syscall(425, 4, params) >= 0\n", B, B),
    "ctypes_bpf": ("import ctypes\nctypes.CDLL(None).syscall(321, 0, 0, 0)\n", B, B),
    "ctypes_keyctl": ("import ctypes\nctypes.CDLL(None).syscall(250, 0, 0, 0)\n", B, B),
    "ctypes_personality": ("import ctypes\nassert ctypes.CDLL(None).personality(0x0040000) >= 0\n", B, B),
    "ctypes_openat_dirfd": ("import ctypes, os\nfd = os.open('.', os.O_RDONLY)\n"
                            "assert ctypes.CDLL(None).openat(fd, b'x', os.O_CREAT | os.O_WRONLY, 0o600) >= 0\n", B, B),
    "ctypes_chmod_caller": ("import ctypes\nassert ctypes.CDLL(None).chmod(b'{C}/victim.txt', 0o777) == 0\n", B, B),
    "ctypes_clone3_fork": ("import ctypes\nargs = (ctypes.c_uint64 * 11)()\nargs[4] = 17\n"
                           "assert ctypes.CDLL(None).syscall(435, args, 88) >= 0\n", B, E),  # ENOSYS
    "ctypes_newer_syscall": ("import ctypes\nassert ctypes.CDLL(None).syscall(469, 0, 0, 0, 0, 0) >= 0\n", B, E),
    "ctypes_kill_parent": ("import ctypes, os\nassert ctypes.CDLL(None).kill(os.getppid(), 0) == 0\n", B, B),
    # exec and spawn
    "os_execv": ("import os\nos.execv('/bin/sh', ['sh', '-c', 'touch {C}/escaped.txt'])\n", B, B),
    "os_posix_spawn": ("import os\nos.posix_spawn('/bin/sh', ['sh', '-c', 'touch {C}/escaped.txt'], {{}})\n", B, B),
    "multiprocessing": ("import multiprocessing\np = multiprocessing.Process(target=print)\np.start()\np.join()\n",
                        B, B),
    # threads
    "thread_socket": ("import threading, socket\nt = threading.Thread(target=socket.socket)\nt.start()\nt.join()\n",
                      B, B),
    "thread_write_caller": ("import threading\n"
                            "t = threading.Thread(target=lambda: open('{C}/escaped.txt', 'w').write('x'))\n"
                            "t.start()\nt.join()\n", B, None),  # a thread's exception does not end the program
    # signals
    "kill_parent": ("import os, signal\nos.kill(os.getppid(), signal.SIGKILL)\n", B, B),
    "kill_everyone": ("import os, signal\nos.kill(-1, signal.SIGKILL)\n", B, B),
    "kill_init_probe": ("import os\nos.kill(1, 0)\n", B, B),
    "killpg_parent": ("import os, signal\nos.killpg(os.getpgid(os.getppid()), signal.SIGTERM)\n", B, B),
    "sigio_to_parent": ("import fcntl, os\nfcntl.fcntl(2, fcntl.F_SETOWN, os.getppid())\n"  # then SIGIO kills it
                        "fcntl.fcntl(2, fcntl.F_SETFL, fcntl.fcntl(2, fcntl.F_GETFL) | os.O_ASYNC)\n"
                        "for _ in range(64):\n    os.write(2, bytes(65536))\n", B, B),
    "renice_parent": ("import os\nos.setpriority(os.PRIO_PROCESS, os.getppid(), 19)\n", B, B),
    "affinity_parent": ("import os\nos.sched_setaffinity(os.getppid(), {{0}})\n", B, B),
    "inotify_caller": ("import ctypes\nlibc = ctypes.CDLL(None)\n"
                       "assert libc.inotify_add_watch(libc.inotify_init1(0), b'{C}', 0xfff) >= 0\n", B, B),
    # /proc
    "proc_self_mem": ("open('/proc/self/mem', 'r+b')\n", B, E),
    "proc_self_fd": ("import os\nassert os.listdir('/proc/self/fd')\n", B, E),
    "proc_self_root": ("assert 'root' in open('/proc/self/root/etc/passwd').read()\n", B, E),
    "proc_parent_mem": ("import os\nopen(f'/proc/{{os.getppid()}}/mem', 'r+b')\n", B, E),
    "proc_parent_environ": ("import os\nassert open(f'/proc/{{os.getppid()}}/environ').read()\n", B, E),
    "proc_self_cwd_up": ("open('/proc/self/cwd/{UP}{C}/escaped.txt', 'w')\n", B, E),
    # links
    "symlink_out": ("import os\nos.symlink('/etc/passwd', 'p')\nassert 'root' in open('p').read()\n", B, E),
    "symlink_relative_out": ("import os\nos.mkdir('d')\nos.symlink('{UP}etc/passwd', 'd/p')\n"
                             "assert 'root' in open('d/p').read()\n", B, E),
    "symlink_dir_out": ("import os\nos.symlink('{C}', 'c')\nopen('c/escaped.txt', 'w').write('x')\n", B, E),
    "symlink_race": ("import os, threading\nopen('inside.txt', 'w').write('inside')\nstop = []\ndef flip():\n"
                     "    while not stop:\n        for target in ('inside.txt', '/etc/passwd'):\n            try:\n"
                     "                os.symlink(target, 'tmp')\n                os.replace('tmp', 'link')\n"
                     "            except OSError:\n                pass\n"
                     "threading.Thread(target=flip, daemon=True).start()\nfor _ in range(3000):\n    try:\n"
                     "        if 'root' in open('link').read():\n            break\n    except OSError:\n        pass\n"
                     "else:\n    raise RuntimeError('never escaped')\nstop.append(1)\n", B, E),
    "hardlink_passwd": ("import os\nos.link('/etc/passwd', 'p')\nassert 'root' in open('p').read()\n", B, E),
    "hardlink_caller_then_write": ("import os\nos.link('{C}/victim.txt', 'v')\nopen('v', 'a').write('x')\n", B, E),
    # descriptors: only 0, 1 and 2 are open
    "inherited_fds": ("import os\nfound = []\nfor fd in range(3, 4096):\n    try:\n        os.fstat(fd)\n"
                      "        found.append(fd)\n    except OSError:\n        pass\nassert found\n", E, E),
    "inherited_fd_read": ("import os\nassert os.read({FD}, 99) == b'victim'\n", E, E),
}
SPARED_WITHOUT_NAMESPACES = {"disk_bomb"}  # no tmpfs then: it would fill the disk for `timeout` seconds


def snapshot(folder: Path) -> dict:
    return {p.name: (p.lstat().st_mode, p.lstat().st_mtime_ns, p.read_bytes() if p.is_file() else None)
            for p in sorted(folder.iterdir())}


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    caller = tmp_path_factory.mktemp("caller")
    (caller / "victim.txt").write_text("victim")
    fd = os.open(caller / "victim.txt", os.O_RDONLY)
    os.set_inheritable(fd, True)  # a descriptor the caller leaves open for its children
    stdlib = sysconfig.get_paths()["stdlib"]
    programs = {name: program.format(C=caller, L=stdlib, UP=UP, FD=fd) for name, (program, *_) in CASES.items()}
    before = {"caller": snapshot(caller), "passwd": Path("/etc/passwd").read_bytes(),
              "stdlib": sorted(os.listdir(stdlib)), "tmp": sorted(os.listdir(tempfile.gettempdir()))}

    def run(names: list[str], **options) -> dict:
        """Hangs with a short timeout, the rest with a long one (a loaded machine imports slowly)."""
        out = {}
        for hang in (True, False):
            batch = [k for k in names if ("timeout" in CASES[k][1]) == hang]
            out |= dict(zip(batch, codeexec._run([programs[k] for k in batch], timeout=0.3 if hang else 5.0,
                                                 memory_mb=256, jobs=2, **options)))
        return out

    cwd = os.getcwd()
    os.chdir(caller)  # the caller's folder is also the current one
    try:
        out = {"tripwire": run(list(programs)), "kernel": run(list(programs), tripwire=False),
               "no namespaces": run([k for k in programs if k not in SPARED_WITHOUT_NAMESPACES], tripwire=False,
                                    namespaces=(False,))}
    finally:
        os.chdir(cwd)
        os.close(fd)
    after = {"caller": snapshot(caller), "passwd": Path("/etc/passwd").read_bytes(),
             "stdlib": sorted(os.listdir(stdlib)), "tmp": sorted(os.listdir(tempfile.gettempdir()))}
    return out, before, after


@pytest.mark.parametrize("name", sorted(CASES))
def test_with_tripwire(runs, name):
    outcome = runs[0]["tripwire"][name]
    assert outcome.status in CASES[name][1], outcome


@pytest.mark.parametrize("name", sorted(k for k, v in CASES.items() if v[2] is not None))
def test_kernel_alone(runs, name):
    outcome = runs[0]["kernel"][name]
    assert outcome.status in CASES[name][2], outcome


@pytest.mark.parametrize("name", sorted(k for k, v in CASES.items() if v[2] is not None
                                        and k not in SPARED_WITHOUT_NAMESPACES))
def test_kernel_alone_without_namespaces(runs, name):
    outcome = runs[0]["no namespaces"][name]
    assert outcome.status in CASES[name][2], outcome


def test_no_trace(runs):
    _, before, after = runs
    assert after["caller"] == before["caller"]  # nothing added, removed, changed, chmod-ed or touched
    assert after["passwd"] == before["passwd"] and after["stdlib"] == before["stdlib"]
    assert [p for p in after["tmp"] if p.startswith("limitlab-sandbox-") and p not in before["tmp"]] == []


def test_blocked_outcomes_name_the_attempt(runs):
    out = runs[0]["tripwire"]
    assert out["read_passwd"].error == "open /etc/passwd"
    assert out["socket_inet"].error == "socket.__new__"
    assert out["dirfd_unlink_caller"].error == "os.remove relative to a directory handle (dir_fd)"
    assert out["hook_ctypes"].error == "import ctypes"
    assert runs[0]["kernel"]["socket_inet"].error == "a system call the sandbox forbids"
