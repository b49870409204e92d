"""Each test works in a fresh project directory; `tally` is the freshly built
binary ($TALLY_BIN), the package is this checkout's."""
import os
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
PACKAGE_ROOT = os.path.dirname(HERE)
sys.path.insert(0, PACKAGE_ROOT)

TALLY = os.environ.get("TALLY_BIN", "tally")


@pytest.fixture
def project(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for name in ("TALLY_RUNS_DIR", "TALLY_RUN_DIR", "TALLY_RUN_ID", "TALLY_SCALARS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PYTHONPATH", PACKAGE_ROOT)
    return tmp_path


def tally(*args, check=True):
    """Run the tally binary; its CompletedProcess (text)."""
    return subprocess.run([TALLY, *args], capture_output=True, text=True, check=check)


def write(path, text):
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    return path
