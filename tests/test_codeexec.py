"""The sandbox for generated programs: nothing outside its temporary folder, no network, no hangs."""
import os
import tempfile
import time
from pathlib import Path

import pytest

from limitlab.codeexec import Outcome, run_programs
from limitlab.errors import ConfigError


def test_escapes_are_blocked_and_hangs_are_killed(tmp_path: Path):
    outside = tmp_path / "outside.txt"
    marker = tmp_path / "marker"
    programs = {
        "ok": "import json, collections\nprint(json.dumps(sorted(collections.Counter('abca'))))\n",
        "inside": "open('a.txt', 'w').write('hi')\nimport os\nassert os.listdir('.') == ['a.txt']\n",
        "write_outside": f"open({str(outside)!r}, 'w').write('escaped')\n",
        "read_outside": f"open({str(Path(__file__).resolve())!r}).read()\n",
        "socket": "import socket\nsocket.socket()\n",
        "socket_caught": "import socket\ntry:\n    socket.create_connection(('127.0.0.1', 9))\nexcept Exception:\n    pass\n",
        "system": f"import os\nos.system('touch {marker}')\n",
        "subprocess": f"import subprocess\nsubprocess.run(['touch', {str(marker)!r}])\n",
        "remove": f"import os\nos.remove({str(Path(__file__).resolve())!r})\n",
        "chdir": f"import os\nos.chdir({str(tmp_path)!r})\nopen('x', 'w')\n",
        "ctypes": "import ctypes\n",
        "loop": "while True:\n    pass\n",
        "sleep": "import time\ntime.sleep(60)\n",
        "name": "print(undefined_name)\n",
        "exit": "import sys\nsys.exit(0)\n",
    }
    start = time.perf_counter()
    out = dict(zip(programs, run_programs(list(programs.values()), timeout=0.5, jobs=2)))
    elapsed = time.perf_counter() - start
    assert out["ok"] == Outcome("ok") and out["inside"] == Outcome("ok") and out["exit"] == Outcome("ok")
    for name in ("write_outside", "read_outside", "socket", "socket_caught", "system", "subprocess", "remove",
                 "chdir", "ctypes"):
        assert out[name].status == "blocked", name
    assert out["loop"].status == "timeout" and out["sleep"].status == "timeout"
    assert out["name"] == Outcome("error", "NameError")
    assert not outside.exists() and not marker.exists() and not (tmp_path / "x").exists()
    assert Path(__file__).exists()
    assert elapsed < 15  # two 0.5 s timeouts in parallel plus startup; a hang would blow far past this


def test_temporary_folders_are_removed():
    def folders() -> set[str]:
        return {p for p in os.listdir(tempfile.gettempdir()) if p.startswith("limitlab-sandbox-")}

    before = folders()
    [out] = run_programs(["open('left.txt', 'w').write('x')\n"], timeout=1.0)
    assert out.status == "ok" and folders() <= before


def test_memory_limit_and_bad_arguments():
    [out] = run_programs(["x = bytearray(4 * 1024 ** 3)\n"], timeout=2.0, memory_mb=256)
    assert out == Outcome("error", "MemoryError")
    assert run_programs([]) == []
    with pytest.raises(ConfigError, match="timeout"):
        run_programs(["pass"], timeout=0)
