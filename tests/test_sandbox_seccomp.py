"""The seccomp filter, read by a BPF interpreter written here, and its syscall numbers checked against libseccomp."""
import ctypes
import ctypes.util
import struct

import pytest

from limitlab.sandbox import seccomp
from limitlab.sandbox.seccomp import ALLOW, AUDIT_ARCH, ENOSYS, KILL

PID = 4242
X86 = seccomp.NUMBERS["x86_64"]
SIGN_EXTENDED_AT_FDCWD = (1 << 64) - 100  # how glibc passes the int -100 in a 64-bit register


def evaluate(prog: list[tuple], nr: int, arch: int = AUDIT_ARCH["x86_64"], args: tuple = ()) -> int:
    """Classic BPF as the kernel runs a seccomp filter, for the instructions the filter uses."""
    data = struct.pack("=iIQ6Q", nr, arch, 0, *(list(args) + [0] * 6)[:6])
    a, pc = 0, 0
    for _ in range(len(prog) + 1):  # forward jumps only: a program ends within its length
        code, jt, jf, k = prog[pc]
        if code == 0x20:
            a, pc = struct.unpack_from("=I", data, k)[0], pc + 1
        elif code == 0x06:
            return k
        else:
            taken = {0x15: a == k, 0x25: a > k, 0x35: a >= k, 0x45: bool(a & k)}[code]
            pc += 1 + (jt if taken else jf)
    raise AssertionError("the filter did not return")


@pytest.fixture(scope="module")
def prog():
    return seccomp.instructions("x86_64", PID)


@pytest.mark.parametrize("arch", sorted(seccomp.NUMBERS))
def test_program_is_well_formed(arch):
    prog = seccomp.instructions(arch, PID)
    assert len(prog) < 4096 and all(0 <= jt <= 255 and 0 <= jf <= 255 for _, jt, jf, _ in prog)
    assert all(pc + 1 + max(jt, jf) < len(prog) for pc, (code, jt, jf, _) in enumerate(prog) if code != 0x06)
    assert len(seccomp.pack(prog)) == 8 * len(prog)


@pytest.mark.parametrize("nr, args, expected", [
    (0, (), ALLOW),  # read
    (X86["socket"], (2, 1, 0), KILL),
    (X86["socketpair"], (1, 1, 0), KILL),
    (X86["fork"], (), KILL),
    (X86["execve"], (), KILL),
    (X86["ptrace"], (16, 1), KILL),
    (X86["unshare"], (0x10000000,), KILL),
    (X86["io_uring_setup"], (4, 0), KILL),
    (X86["prctl"], (4, 1), KILL),
    (X86["fchmodat2"], (), KILL),
    (X86["setresuid"], (2**64 - 1,) * 3, KILL),  # the tripwire's doorbell
    (X86["clone3"], (), ENOSYS),
    (seccomp.REVIEWED, (), ALLOW),  # mseal: reviewed, allowed
    (seccomp.REVIEWED + 1, (), ENOSYS),  # newer than the table (setxattrat)
    (469, (), ENOSYS),  # file_setattr
    (seccomp.X32_BIT | 41, (), KILL),  # socket through the x32 ABI
    (seccomp.X32_BIT | 0, (), KILL),
    (X86["clone"], (0x003D0F00,), ALLOW),  # glibc's pthread_create flags (CLONE_VM ... CLONE_THREAD ...)
    (X86["clone"], (17,), KILL),  # fork: SIGCHLD only
    (X86["clone"], (0x4000 | 0x100 | 17,), KILL),  # posix_spawn: CLONE_VFORK | CLONE_VM
    (X86["clone"], (0x003D0F00 | 0x40000000,), KILL),  # a thread in a new network namespace
    (X86["kill"], (PID, 9), ALLOW),
    (X86["kill"], (PID | 7 << 32, 9), ALLOW),  # the kernel reads pid_t: the high half does not count
    (X86["kill"], (1, 9), KILL),
    (X86["kill"], (2**64 - 1, 9), KILL),  # kill(-1): everyone
    (X86["kill"], (0, 9), KILL),  # the process group
    (X86["tgkill"], (PID, PID + 1, 10), ALLOW),
    (X86["tgkill"], (PID + 1, PID + 1, 10), KILL),
    (X86["rt_sigqueueinfo"], (1, 10, 0), KILL),
    (X86["tkill"], (PID, 10), KILL),
    (X86["prlimit64"], (0, 9, 0, 1), ALLOW),
    (X86["prlimit64"], (1, 9, 1, 0), KILL),
    (X86["openat"], (SIGN_EXTENDED_AT_FDCWD, 1, 0), ALLOW),
    (X86["openat"], (seccomp.AT_FDCWD, 1, 0), ALLOW),  # zero-extended: the same int to the kernel
    (X86["openat"], (5, 1, 0), KILL),
    (X86["unlinkat"], (3, 1, 0), KILL),
    (X86["renameat"], (SIGN_EXTENDED_AT_FDCWD, 1, SIGN_EXTENDED_AT_FDCWD, 2), ALLOW),
    (X86["renameat2"], (SIGN_EXTENDED_AT_FDCWD, 1, 4, 2), KILL),
    (X86["linkat"], (4, 1, SIGN_EXTENDED_AT_FDCWD, 2), KILL),
    (X86["symlinkat"], (1, SIGN_EXTENDED_AT_FDCWD, 2), ALLOW),
    (X86["symlinkat"], (1, 6, 2), KILL),
    (X86["mkdirat"], (7, 1, 0o777), KILL),
    (X86["fcntl"], (2, 3), ALLOW),  # F_GETFL
    (X86["fcntl"], (2, 4, 0o4000), ALLOW),  # F_SETFL O_NONBLOCK
    (X86["fcntl"], (2, 1030, 3), ALLOW),  # F_DUPFD_CLOEXEC
    (X86["fcntl"], (2, 8, 1), KILL),  # F_SETOWN: SIGIO to pid 1
    (X86["fcntl"], (2, 10, 9), KILL),  # F_SETSIG
    (X86["fcntl"], (2, 15, 0), KILL),  # F_SETOWN_EX
    (X86["setpriority"], (0, 0, 19), KILL),
    (X86["sched_setaffinity"], (1, 8, 0), KILL),
])
def test_x86_64_decisions(prog, nr, args, expected):
    assert evaluate(prog, nr, args=args) == expected


def test_other_abis_are_killed(prog):
    for arch in (0x40000003, 0xC00000B7, 0):  # i386 (int 0x80), aarch64, garbage
        assert evaluate(prog, 0, arch=arch) == KILL


@pytest.mark.parametrize("arch", sorted(seccomp.NUMBERS))
def test_every_listed_call_is_killed(arch):
    prog = seccomp.instructions(arch, PID)
    numbers = seccomp.NUMBERS[arch]
    for name in seccomp.KILLED:
        if name in numbers:
            assert evaluate(prog, numbers[name], arch=AUDIT_ARCH[arch]) == KILL, name
    allowed = set(range(seccomp.REVIEWED + 1)) - set(numbers.values())
    assert all(evaluate(prog, nr, arch=AUDIT_ARCH[arch]) == ALLOW for nr in allowed)


def test_numbers_agree_with_libseccomp():
    """libseccomp (the C library) as an independent table of each ABI's numbers."""
    path = ctypes.util.find_library("seccomp")
    if path is None:
        pytest.skip("libseccomp is not installed")
    resolve = ctypes.CDLL(path).seccomp_syscall_resolve_name_arch
    resolve.argtypes, resolve.restype = [ctypes.c_uint32, ctypes.c_char_p], ctypes.c_int
    checked = 0
    for arch, numbers in seccomp.NUMBERS.items():
        for name, nr in numbers.items():
            theirs = resolve(AUDIT_ARCH[arch], name.encode())
            if theirs >= 0:  # names newer than this libseccomp resolve to -1
                assert theirs == nr, (arch, name)
                checked += 1
        legacy = [n for n in seccomp.NUMBERS["x86_64"] if n not in numbers]
        assert all(resolve(AUDIT_ARCH[arch], n.encode()) < 0 for n in legacy), arch  # truly absent there
    assert checked > 250
