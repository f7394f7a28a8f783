"""The kernel side of the sandbox: what a freshly forked child does to itself before a line of the program runs.

`confine()` is called by the trusted worker in the child, in this order (each step needs the previous):
1. namespaces (when `Plan.namespaces`): a new user namespace (uid/gid 1000 inside, the caller's own
   outside: the only mapping an unprivileged process may write), with a new mount, network (no interface
   but a downed loopback: no network) and IPC namespace; the box is a fresh size-capped tmpfs, visible
   only in this mount namespace, so it vanishes with the process;
2. resource limits, soft = hard so the program cannot raise them: CPU seconds, address space, file size,
   open files, no core dumps, and the number of processes/threads (per user namespace since Linux 5.14,
   so only where there is a fresh one);
3. no_new_privs, not dumpable, die with the worker (PR_SET_PDEATHSIG);
4. Landlock, ABI 3 at least (Linux 6.2; before it, open(O_RDONLY | O_TRUNC) emptied any file one could
   read): read-only access to the interpreter's standard library and shared-library folders, read and
   write in the box, nothing else (not /etc, /proc, /home, the caller's folder ...); TCP bind/connect
   refused (ABI 4+), signals and abstract unix sockets scoped to the domain (ABI 6+);
5. every capability dropped (the user namespace gives a full set);
6. the seccomp filter of `seccomp` (loaded last: it forbids prctl, capset, unshare and mount).
Everything is plain ctypes on libc: Python 3.11 has no os.unshare, and nothing outside the standard
library can be imported here (the worker runs under `python -I -S`).
"""
from __future__ import annotations

import ctypes
import os
import platform
import resource
import signal
import sys
from dataclasses import dataclass

from limitlab.sandbox import seccomp

CLONE_NEWNS, CLONE_NEWIPC, CLONE_NEWUSER, CLONE_NEWNET = 0x00020000, 0x08000000, 0x10000000, 0x40000000
MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_REC, MS_PRIVATE = 2, 4, 8, 1 << 14, 1 << 18
PR_SET_PDEATHSIG, PR_SET_DUMPABLE, PR_SET_SECCOMP, PR_SET_NO_NEW_PRIVS = 1, 4, 22, 38
SECCOMP_MODE_FILTER = 2
LANDLOCK_CREATE_RULESET, LANDLOCK_ADD_RULE, LANDLOCK_RESTRICT_SELF = 444, 445, 446  # the same on every arch
# Landlock file-system rights by bit: 0 execute, 1 write_file, 2 read_file, 3 read_dir, 4 remove_dir,
# 5 remove_file, 6 make_char, 7 make_dir, 8 make_reg, 9 make_sock, 10 make_fifo, 11 make_block, 12 make_sym,
# 13 refer (ABI 2), 14 truncate (ABI 3), 15 ioctl_dev (ABI 5).
READ_FILE, READ_DIR, WRITE_FILE, TRUNCATE = 1 << 2, 1 << 3, 1 << 1, 1 << 14
BOX_RIGHTS = sum(1 << b for b in (1, 2, 3, 4, 5, 7, 8, 9, 10, 12, 13, 14))  # no exec, devices or ioctl
TMPFS_OPTIONS = "size={mb}m,nr_inodes=4096,mode=0700"
INNER_ID = 1000
MIN_LANDLOCK_ABI = 3
LOG_SAME_EXEC_OFF = 1  # landlock_restrict_self (ABI 7): no audit line per refusal, which a program could flood

libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long


def _sys(number: int, *args: object) -> int:
    """syscall(2) with every integer passed as a full C long (it is variadic: no implicit widening)."""
    return libc.syscall(ctypes.c_long(number), *(ctypes.c_long(a) if isinstance(a, int) else a for a in args))


def _prctl(option: int, *args: object) -> int:
    return libc.prctl(ctypes.c_int(option), *(ctypes.c_ulong(a) if isinstance(a, int) else a for a in args))


@dataclass(frozen=True)
class Plan:
    """What every child of one batch applies (decided once by the worker's probe)."""

    namespaces: bool
    cpu_seconds: int
    memory_bytes: int
    file_bytes: int = 1 << 20
    box_mb: int = 16
    open_files: int = 64
    threads: int = 32


class _RulesetAttr(ctypes.Structure):
    _fields_ = [("fs", ctypes.c_uint64), ("net", ctypes.c_uint64), ("scoped", ctypes.c_uint64)]


class _PathBeneath(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("allowed", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_char_p)]


def _ok(result: int, what: str) -> int:
    if result < 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")
    return result


def arch() -> str | None:
    """The seccomp table to use, or None if this machine has none (or is big-endian)."""
    name = {"amd64": "x86_64", "arm64": "aarch64"}.get(platform.machine().lower(), platform.machine().lower())
    return name if name in seccomp.NUMBERS and sys.byteorder == "little" else None


def landlock_abi() -> int:
    """The kernel's Landlock ABI version; OSError if there is none, or one older than `MIN_LANDLOCK_ABI`."""
    abi = _ok(_sys(LANDLOCK_CREATE_RULESET, None, 0, 1), "Landlock (needs Linux >= 6.2 with landlock among the LSMs)")
    if abi < MIN_LANDLOCK_ABI:  # before ABI 3, open(O_RDONLY | O_TRUNC) truncated any file one could read
        raise OSError(f"Landlock ABI {abi} (Linux < 6.2) does not stop truncating readable files; ABI 3 does")
    return abi


def _write(path: str, text: str) -> None:
    fd = os.open(path, os.O_WRONLY)
    try:
        os.write(fd, text.encode())
    finally:
        os.close(fd)


def enter_namespaces(box: str, box_mb: int) -> None:
    uid, gid = os.getuid(), os.getgid()  # read before: inside, they read as the overflow id until mapped
    _ok(libc.unshare(CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWIPC), "unshare(user, mount, net, ipc)")
    _write("/proc/self/setgroups", "deny")
    # Inside, an ordinary id (not 0), so libraries take no "running as root" path (SQLite would fchown its
    # files, which the filter forbids); outside it is the caller's own id, the only one a process may map.
    _write("/proc/self/uid_map", f"{INNER_ID} {uid} 1")
    _write("/proc/self/gid_map", f"{INNER_ID} {gid} 1")
    _ok(libc.mount(None, b"/", None, ctypes.c_ulong(MS_REC | MS_PRIVATE), None), "mount --make-rprivate /")
    _ok(libc.mount(b"tmpfs", os.fsencode(box), b"tmpfs", ctypes.c_ulong(MS_NOSUID | MS_NODEV | MS_NOEXEC),
                   TMPFS_OPTIONS.format(mb=box_mb).encode()), "mount tmpfs on the box")


def set_limits(plan: Plan) -> None:
    limits = [(resource.RLIMIT_CPU, plan.cpu_seconds), (resource.RLIMIT_AS, plan.memory_bytes),
              (resource.RLIMIT_FSIZE, plan.file_bytes), (resource.RLIMIT_NOFILE, plan.open_files),
              (resource.RLIMIT_CORE, 0), (resource.RLIMIT_MEMLOCK, 0), (resource.RLIMIT_MSGQUEUE, 0)]
    if plan.namespaces:  # counted per (user namespace, uid): here only this process and its threads
        limits.append((resource.RLIMIT_NPROC, plan.threads))
    for which, value in limits:
        resource.setrlimit(which, (value, value))


def landlock(box: str, read_dirs: list[str], read_files: list[str], rw_files: list[str]) -> int:
    """Restrict this process to the rules in the module docstring; returns the ABI used."""
    abi = landlock_abi()
    fs = (1 << 15) - 1 | (1 << 15 if abi >= 5 else 0)  # bits 0-12 (ABI 1), refer (2), truncate (3), ioctl_dev (5)
    attr = _RulesetAttr(fs, 0b11 if abi >= 4 else 0, 0b11 if abi >= 6 else 0)
    size = 8 if abi < 4 else 16 if abi < 6 else 24  # the struct as that ABI knows it
    ruleset = _ok(_sys(LANDLOCK_CREATE_RULESET, ctypes.byref(attr), size, 0), "landlock_create_ruleset")
    try:
        rules = [(box, BOX_RIGHTS)] + [(d, READ_FILE | READ_DIR) for d in read_dirs]
        rules += [(f, READ_FILE) for f in read_files] + [(f, READ_FILE | WRITE_FILE | TRUNCATE) for f in rw_files]
        for path, rights in rules:
            fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
            try:
                rule = _PathBeneath(rights & fs, fd)
                _ok(_sys(LANDLOCK_ADD_RULE, ruleset, 1, ctypes.byref(rule), 0), f"landlock_add_rule {path}")
            finally:
                os.close(fd)
        _ok(_sys(LANDLOCK_RESTRICT_SELF, ruleset, LOG_SAME_EXEC_OFF if abi >= 7 else 0), "landlock_restrict_self")
    finally:
        os.close(ruleset)
    return abi


def drop_capabilities() -> None:
    header = (ctypes.c_uint32 * 2)(0x20080522, 0)  # _LINUX_CAPABILITY_VERSION_3, this process
    data = (ctypes.c_uint32 * 6)()  # effective, permitted, inheritable x 2 words: all zero
    _ok(libc.capset(header, data), "capset")


def load_seccomp(machine: str) -> None:
    code = seccomp.pack(seccomp.instructions(machine, os.getpid()))
    prog = _SockFprog(len(code) // 8, code)
    _ok(_prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.byref(prog), 0, 0), "seccomp filter")


def confine(box: str, plan: Plan, *, worker: int, read_dirs: list[str], read_files: list[str],
            rw_files: list[str]) -> None:
    """Steps 1-6 of the module docstring; raises OSError (with the step's name) if any fails."""
    machine = arch()
    if machine is None:
        raise OSError(f"no seccomp table for {platform.machine()} ({sys.byteorder}-endian); "
                      "x86_64 and aarch64 have one")
    if plan.namespaces:
        enter_namespaces(box, plan.box_mb)
    os.chdir(box)
    set_limits(plan)
    for option, value in ((PR_SET_NO_NEW_PRIVS, 1), (PR_SET_DUMPABLE, 0), (PR_SET_PDEATHSIG, signal.SIGKILL)):
        _ok(_prctl(option, value, 0, 0, 0), f"prctl({option})")
    if os.getppid() != worker:
        raise OSError("the worker ended during setup")
    landlock(box, read_dirs, read_files, rw_files)
    drop_capabilities()
    load_seccomp(machine)
