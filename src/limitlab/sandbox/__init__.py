"""The child side of `limitlab.codeexec`'s sandbox (its module docstring has the threat model).

`worker` runs as a separate `python -I -S` process and forks one child per program; `confine` applies the
kernel's restrictions in that child, `seccomp` is its system-call filter, `tripwire` its audit hook and
program wrapper. Only the standard library is imported here.
"""
