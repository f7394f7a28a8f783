"""The seccomp filter of a sandboxed program: a classic BPF program, written out here so it can be read whole.

A denylist over an allow-by-default base, because an allowlist breaks on every new libc (glibc starts
using clone3, statx, rseq, faccessat2 ... on its own): the file system is Landlock's job, this filter
removes the kernel's other doors. Each refused call ends the whole process at once
(SECCOMP_RET_KILL_PROCESS, seen by the parent as SIGSYS): nothing the program does afterwards, such as
catching an exception, can turn the attempt into a success. In order:
- a system call of another ABI (i386 through `int 0x80`, x32 numbers) kills: the numbers below are
  only those of the native ABI;
- numbers above `REVIEWED` (kernel syscalls newer than this table, e.g. file_setattr) fail with
  ENOSYS, as on an older kernel, and libc falls back;
- the `KILLED` names: process creation and exec, ptrace and friends, sockets, namespaces and mounts, the
  kernel's large attack surfaces (bpf, io_uring, keyctl, perf, userfaultfd), identity and clocks, and
  the file-system changes Landlock does not govern (chmod, chown, utime, xattrs, path truncate, mknod);
- clone only for a thread (CLONE_THREAD, no CLONE_NEW* flag), clone3 fails with ENOSYS (its flags are
  behind a pointer the filter cannot read; glibc then falls back to clone);
- signals only to the process itself, prlimit64 only on itself (pid 0), and no fcntl F_SETOWN/F_SETSIG
  (it makes the kernel signal another process, as root any process); nothing that changes another
  process's priority, CPU affinity or memory placement, no inotify/fanotify watches;
- the *at calls that create, open, rename, link or remove through a directory handle only with
  AT_FDCWD: a filter cannot read the path, but this catches the handle-relative escape itself.
"""
from __future__ import annotations

import struct

# seccomp_data: int nr at 0, u32 arch at 4, u64 instruction pointer at 8, u64 args[6] from 16.
NR, ARCH = 0, 4
KILL, ALLOW = 0x80000000, 0x7FFF0000
ENOSYS = 0x00050000 | 38  # SECCOMP_RET_ERRNO | ENOSYS
AT_FDCWD = 0xFFFFFF9C  # -100 as the 32-bit int the kernel reads
CLONE_THREAD, CLONE_NEW_ANY = 0x00010000, 0x7E020000  # every CLONE_NEW* flag clone() takes (ns, cgroup ... net)
REVIEWED = 462  # the highest syscall number this table was reviewed against (mseal, Linux 6.10)
X32_BIT = 0x40000000
AUDIT_ARCH = {"x86_64": 0xC000003E, "aarch64": 0xC00000B7}

# The native numbers of every call named below; aarch64 has no legacy calls (fork, chmod, ...).
_X86_64 = dict(
    fork=57, vfork=58, execve=59, execveat=322, clone=56, clone3=435, ptrace=101, process_vm_readv=310,
    process_vm_writev=311, kcmp=312, pidfd_open=434, pidfd_getfd=438, pidfd_send_signal=424, process_madvise=440,
    process_mrelease=448, socket=41, socketpair=53, unshare=272, setns=308, mount=165, umount2=166, pivot_root=155,
    chroot=161, open_tree=428, move_mount=429, fsopen=430, fsconfig=431, fsmount=432, fspick=433, mount_setattr=442,
    statmount=457, listmount=458, bpf=321, perf_event_open=298, keyctl=250, add_key=248, request_key=249,
    personality=135, userfaultfd=323, io_uring_setup=425, io_uring_enter=426, io_uring_register=427, kexec_load=246,
    kexec_file_load=320, init_module=175, finit_module=313, delete_module=176, reboot=169, swapon=167, swapoff=168,
    acct=163, quotactl=179, quotactl_fd=443, lookup_dcookie=212, syslog=103, ioperm=173, iopl=172, modify_ldt=154,
    uselib=134, ustat=136, sysfs=139, _sysctl=156, vhangup=153, open_by_handle_at=304, name_to_handle_at=303,
    fanotify_init=300, seccomp=317, prctl=157, lsm_set_self_attr=460, tkill=200, setuid=105, setgid=106,
    setreuid=113, setregid=114, setresuid=117, setresgid=119, setgroups=116, setfsuid=122, setfsgid=123, capset=126,
    settimeofday=164, clock_settime=227, clock_adjtime=305, adjtimex=159, sethostname=170, setdomainname=171,
    chmod=90, fchmod=91, fchmodat=268, fchmodat2=452, chown=92, fchown=93, lchown=94, fchownat=260, utime=132,
    utimes=235, futimesat=261, utimensat=280, setxattr=188, lsetxattr=189, fsetxattr=190, removexattr=197,
    lremovexattr=198, fremovexattr=199, truncate=76, mknod=133, mknodat=259, openat2=437, memfd_secret=447,
    shmget=29, shmat=30, shmctl=31, shmdt=67, semget=64, semop=65, semctl=66, semtimedop=220, msgget=68, msgsnd=69,
    msgrcv=70, msgctl=71, mq_open=240, mq_unlink=241, mq_timedsend=242, mq_timedreceive=243, mq_notify=244,
    mq_getsetattr=245, kill=62, tgkill=234, rt_sigqueueinfo=129, rt_tgsigqueueinfo=297, prlimit64=302, openat=257,
    mkdirat=258, unlinkat=263, renameat=264, renameat2=316, linkat=265, symlinkat=266, fcntl=72, setpriority=141,
    sched_setparam=142, sched_setscheduler=144, sched_setaffinity=203, ioprio_set=251, sched_setattr=314,
    migrate_pages=256, move_pages=279, inotify_init=253, inotify_add_watch=254, inotify_rm_watch=255,
    inotify_init1=294, fanotify_mark=301)
_AARCH64 = dict(
    execve=221, execveat=281, clone=220, clone3=435, ptrace=117, process_vm_readv=270, process_vm_writev=271,
    kcmp=272, pidfd_open=434, pidfd_getfd=438, pidfd_send_signal=424, process_madvise=440, process_mrelease=448,
    socket=198, socketpair=199, unshare=97, setns=268, mount=40, umount2=39, pivot_root=41, chroot=51, open_tree=428,
    move_mount=429, fsopen=430, fsconfig=431, fsmount=432, fspick=433, mount_setattr=442, statmount=457,
    listmount=458, bpf=280, perf_event_open=241, keyctl=219, add_key=217, request_key=218, personality=92,
    userfaultfd=282, io_uring_setup=425, io_uring_enter=426, io_uring_register=427, kexec_load=104,
    kexec_file_load=294, init_module=105, finit_module=273, delete_module=106, reboot=142, swapon=224, swapoff=225,
    acct=89, quotactl=60, quotactl_fd=443, lookup_dcookie=18, syslog=116, vhangup=58, open_by_handle_at=265,
    name_to_handle_at=264, fanotify_init=262, seccomp=277, prctl=167, lsm_set_self_attr=460, tkill=130, setuid=146,
    setgid=144, setreuid=145, setregid=143, setresuid=147, setresgid=149, setgroups=159, setfsuid=151, setfsgid=152,
    capset=91, settimeofday=170, clock_settime=112, clock_adjtime=266, adjtimex=171, sethostname=161,
    setdomainname=162, fchmod=52, fchmodat=53, fchmodat2=452, fchown=55, fchownat=54, utimensat=88, setxattr=5,
    lsetxattr=6, fsetxattr=7, removexattr=14, lremovexattr=15, fremovexattr=16, truncate=45, mknodat=33,
    openat2=437, memfd_secret=447, shmget=194, shmat=196, shmctl=195, shmdt=197, semget=190, semop=193, semctl=191,
    semtimedop=192, msgget=186, msgsnd=189, msgrcv=188, msgctl=187, mq_open=180, mq_unlink=181, mq_timedsend=182,
    mq_timedreceive=183, mq_notify=184, mq_getsetattr=185, kill=129, tgkill=131, rt_sigqueueinfo=138,
    rt_tgsigqueueinfo=240, prlimit64=261, openat=56, mkdirat=34, unlinkat=35, renameat=38, renameat2=276, linkat=37,
    symlinkat=36, fcntl=25, setpriority=140, sched_setparam=118, sched_setscheduler=119, sched_setaffinity=122,
    ioprio_set=30, sched_setattr=274, migrate_pages=238, move_pages=239, inotify_init1=26, inotify_add_watch=27,
    inotify_rm_watch=28, fanotify_mark=263)
NUMBERS = {"x86_64": _X86_64, "aarch64": _AARCH64}

SIGNAL_SELF = ("kill", "tgkill", "rt_sigqueueinfo", "rt_tgsigqueueinfo")  # argument 0: the target pid / tgid
DIRFD_ARGS = {"openat": (0,), "mkdirat": (0,), "unlinkat": (0,), "symlinkat": (1,), "renameat": (0, 2),
              "renameat2": (0, 2), "linkat": (0, 2)}
F_SETOWN, F_SETSIG, F_SETOWN_EX = 8, 10, 15  # fcntl commands that aim SIGIO at any process (same on every arch)
SPECIAL = frozenset(("clone", "clone3", "prlimit64", "fcntl", *SIGNAL_SELF, *DIRFD_ARGS))
KILLED = tuple(name for name in _X86_64 if name not in SPECIAL)


def _arg_lo(i: int) -> int:
    return 16 + 8 * i  # the low 32 bits of argument i (little-endian); the kernel reads these ints as 32-bit


def _ld(offset: int) -> tuple:
    return (0x20, 0, 0, offset)  # BPF_LD | BPF_W | BPF_ABS


def _ret(value: int) -> tuple:
    return (0x06, 0, 0, value)  # BPF_RET | BPF_K


def _jeq(k: int, jt: int, jf: int) -> tuple:
    return (0x15, jt, jf, k)


def _require(arg: int, value: int) -> list[tuple]:
    """Kill unless argument `arg` (low 32 bits) equals `value`."""
    return [_ld(_arg_lo(arg)), _jeq(value, 1, 0), _ret(KILL)]


def _special(name: str, pid: int) -> list[tuple]:
    """The instructions after `nr == name` matched: each path ends in a return."""
    if name == "clone3":
        return [_ret(ENOSYS)]
    if name == "clone":  # a thread, and no new namespace
        return [_ld(_arg_lo(0)), (0x45, 0, 1, CLONE_NEW_ANY), _ret(KILL), (0x45, 1, 0, CLONE_THREAD), _ret(KILL),
                _ret(ALLOW)]
    if name == "prlimit64":
        return [*_require(0, 0), _ret(ALLOW)]
    if name == "fcntl":  # the kernel would send SIGIO from this process to the owner set here, any process
        refused = (F_SETOWN, F_SETSIG, F_SETOWN_EX)
        return [_ld(_arg_lo(1)), *(ins for cmd in refused for ins in (_jeq(cmd, 0, 1), _ret(KILL))), _ret(ALLOW)]
    if name in SIGNAL_SELF:
        return [*_require(0, pid), _ret(ALLOW)]
    return [*(ins for arg in DIRFD_ARGS[name] for ins in _require(arg, AT_FDCWD)), _ret(ALLOW)]


def instructions(arch: str, pid: int) -> list[tuple[int, int, int, int]]:
    """The filter for a process `pid` on `arch` ("x86_64" or "aarch64"), as (code, jt, jf, k) tuples."""
    numbers = NUMBERS[arch]
    prog = [_ld(ARCH), _jeq(AUDIT_ARCH[arch], 1, 0), _ret(KILL), _ld(NR)]
    if arch == "x86_64":
        prog += [(0x35, 0, 1, X32_BIT), _ret(KILL)]  # BPF_JGE: an x32 system call
    prog += [(0x25, 0, 1, REVIEWED), _ret(ENOSYS)]  # BPF_JGT: newer than this table
    for name in KILLED:
        if name in numbers:
            prog += [_jeq(numbers[name], 0, 1), _ret(KILL)]
    for name in sorted(SPECIAL):
        body = _special(name, pid)
        prog += [_jeq(numbers[name], 0, len(body)), *body]
    return [*prog, _ret(ALLOW)]


def pack(prog: list[tuple[int, int, int, int]]) -> bytes:
    """`struct sock_filter[]` as the kernel reads it."""
    return b"".join(struct.pack("=HBBI", *ins) for ins in prog)
