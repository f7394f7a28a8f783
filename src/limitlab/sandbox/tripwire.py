"""The in-process layer: a PEP 578 audit hook that names what a program tried, and the wrapper that runs it.

A tripwire, not a boundary: a program can reach and defuse anything in its own interpreter (gc, frames,
monkeypatching os.path), and the hook never sees handle-relative paths or C libraries opening files.
What it adds on top of the kernel's rules: a name for the attempt ("open /etc/passwd", "socket.__new__")
and a verdict of "blocked" even when the kernel's answer would be a plain error the program could catch
(a Landlock EACCES). It refuses by ringing the kernel: it writes the event to stderr and then makes a
system call the seccomp filter kills (setresuid), so a refusal ends the process with SIGSYS at once,
before the program gets control back; there is no flag in the process to clear.

The wrapper runs the program and reports only how it ended: exit 0 if it ran to the end (or exited 0),
exit 1 after a final `ERROR_MARK name` line on stderr if it raised. The parent reads nothing else from
the program, and trusts even that line only as a label for a failure (a program can print a fake one;
it can only make its own result worse).
"""
from __future__ import annotations

import builtins
import os
import sys

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing into the process that runs the program
if TYPE_CHECKING:
    from typing import NoReturn

BLOCKED_MARK = b"\n\0limitlab-sandbox blocked: "
ERROR_MARK = b"\n\0limitlab-sandbox error: "
WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND
DENY = ("socket.", "subprocess.", "os.system", "os.exec", "os.spawn", "os.posix_spawn", "os.fork", "os.forkpty",
        "os.killpg", "pty.", "ctypes.", "resource.setrlimit", "resource.prlimit", "sys.addaudithook", "gc.get_",
        "webbrowser.", "syslog.", "urllib.Request", "http.client.", "ftplib.", "smtplib.", "poplib.", "imaplib.",
        "nntplib.", "telnetlib.", "sqlite3.enable_load_extension", "sqlite3.load_extension", "os.startfile")
BANNED_MODULES = frozenset({"ctypes", "_ctypes", "_xxsubinterpreters", "_testcapi", "_testinternalcapi"})
# Events naming paths: which arguments are paths, and which are directory handles (dir_fd).
PATHS = {"os.remove": (0,), "os.rmdir": (0,), "os.mkdir": (0,), "os.rename": (0, 1), "os.link": (0, 1),
         "os.chmod": (0,), "os.chown": (0,), "os.truncate": (0,), "os.utime": (0,), "os.mkfifo": (0,),
         "os.mknod": (0,), "os.chdir": (0,), "os.listdir": (0,), "os.scandir": (0,), "os.walk": (0,),
         "os.fwalk": (0,), "os.setxattr": (0,), "os.removexattr": (0,), "os.listxattr": (0,), "os.getxattr": (0,),
         "glob.glob": (0,), "glob.glob/2": (0, 2), "shutil.copyfile": (0, 1), "shutil.copymode": (0, 1),
         "shutil.copystat": (0, 1), "shutil.copytree": (0, 1), "shutil.move": (0, 1), "shutil.rmtree": (0,),
         "shutil.chown": (0,), "shutil.make_archive": (0, 2), "shutil.unpack_archive": (0, 1),
         "tempfile.mkstemp": (0,), "tempfile.mkdtemp": (0,), "sqlite3.connect": (0,)}
DIR_FDS = {"os.remove": (1,), "os.rmdir": (1,), "os.mkdir": (2,), "os.rename": (2, 3), "os.link": (2, 3),
           "os.symlink": (2,), "os.chmod": (2,), "os.chown": (3,), "os.utime": (3,), "os.mkfifo": (2,),
           "os.mknod": (3,), "os.fwalk": (4,), "glob.glob/2": (3,), "shutil.rmtree": (1,)}
READS = frozenset({"os.listdir", "os.scandir", "os.walk", "os.fwalk", "os.listxattr", "os.getxattr", "glob.glob",
                   "glob.glob/2"})


def install(box: str, readable: tuple[str, ...], writable: tuple[str, ...]) -> None:
    """Add the audit hook for a program confined to `box`, that may also read under `readable` (the standard
    library) and write `writable` (/dev/null). Everything it needs is bound here, not looked up later."""
    realpath, abspath, dirname, join = os.path.realpath, os.path.abspath, os.path.dirname, os.path.join
    fsdecode, write, ring, exit_now, getpid = os.fsdecode, os.write, os.setresuid, os._exit, os.getpid
    sep, own_pid, path_types = os.sep, os.getpid(), (str, bytes, os.PathLike)
    write_roots, read_roots = (box, *writable), (box, *writable, *readable)

    def refuse(what: str) -> NoReturn:
        try:
            write(2, BLOCKED_MARK + what.encode("utf-8", "replace")[:200] + b"\n")
        finally:
            ring(-1, -1, -1)  # the seccomp filter kills the process here (SIGSYS)
            exit_now(70)  # unreachable under the filter

    def check(event: str, value: object, read: bool, base: str = "") -> None:
        if value is None or isinstance(value, int):
            return  # no path, or a descriptor the program holds (opened through a path seen here)
        if not isinstance(value, path_types):
            refuse(f"{event} with a {type(value).__name__} as the path")
        path = fsdecode(value)
        if event == "sqlite3.connect" and path in ("", ":memory:"):
            return
        real = realpath(join(base, path))
        if event == "sqlite3.connect" and path.startswith("file:"):
            real = "a URI " + path[:100]  # may name any file: refused
        if not any(real == r or real.startswith(r + sep) for r in (read_roots if read else write_roots)):
            refuse(f"{event} {real}")

    def decide(event: str, args: tuple) -> None:
        if event == "open":
            path, mode, flags = (*args, None, None, None)[:3]
            writes = (isinstance(mode, str) and any(c in mode for c in "wax+")) or (
                isinstance(flags, int) and flags & WRITE_FLAGS)
            check(event, path, not writes)
        elif event.startswith(DENY):
            refuse(event)
        elif event == "os.kill":
            if args[0] != own_pid or getpid() != own_pid:
                refuse(f"os.kill {args[0]}")
        elif event in DIR_FDS and any(isinstance(args[i], int) and args[i] >= 0  # the default reads -1 or None
                                      for i in DIR_FDS[event] if i < len(args)):
            refuse(f"{event} relative to a directory handle (dir_fd)")
        elif event == "os.symlink":  # (target, link): the target counts from the link's folder
            check(event, args[1], False)
            check(event, args[0], False, dirname(abspath(fsdecode(args[1]))))
        elif event in PATHS:
            for i in PATHS[event]:
                if i < len(args):
                    check(event, args[i], event in READS)
        elif event == "fcntl.fcntl" and args[1] in (8, 10, 15):  # F_SETOWN, F_SETSIG, F_SETOWN_EX: SIGIO to others
            refuse(f"fcntl {args[1]} (SIGIO to another process)")
        elif event == "import" and args[0] in BANNED_MODULES:
            refuse("import " + args[0])

    def hook(event: str, args: tuple) -> None:
        try:
            decide(event, args)
        except BaseException:  # noqa: BLE001  (a path the checks cannot even read, bad type, NUL ...: refused too)
            refuse(event)

    sys.addaudithook(hook)


def run(code: str) -> None:
    """Run `code` as __main__ and end the process: exit 0 if it finished, 1 after ERROR_MARK if it raised."""
    write, exit_now = os.write, os._exit
    try:
        exec(compile(code, "<program>", "exec"), {"__name__": "__main__", "__builtins__": builtins})
    except SystemExit as exc:  # as the interpreter reads it: None, 0 or False is success, anything else not
        if exc.code is None or (type(exc.code) in (int, bool) and exc.code == 0):
            exit_now(0)
        name = "SystemExit"
    except BaseException as exc:  # noqa: BLE001  (anything the program raised is its result, to be named)
        try:
            name = type(exc).__name__
        except BaseException:  # noqa: BLE001  (a hostile metaclass: still an error)
            name = "BaseException"
    else:
        exit_now(0)
    try:
        write(2, ERROR_MARK + str(name).encode("ascii", "replace")[:100] + b"\n")
    finally:
        exit_now(1)
