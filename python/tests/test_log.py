import json
import os
import signal
import subprocess
import sys
import time
import warnings

import pytest

from conftest import TALLY, tally, write

import tally as t


def scalar_points(ref="1"):
    """(tag, step, value) of a run, from the CLI."""
    out = tally("scalars", ref, "--format", "json").stdout
    return [(p["tag"], p["step"], p["value"]) for p in json.loads(out)]


def test_log_in_a_tracked_run(project):
    write("train.py", """
import tally
assert tally.is_active()
for epoch in range(3):
    tally.log(loss=1.0 / (epoch + 1), val_loss=0.5, step=epoch)
tally.log_dict({"acc": 0.9}, step=7)
print("dir", tally.run_dir())
""")
    tally("run", "-q", "train.py")
    points = scalar_points()
    assert ("loss", 0, 1.0) in points and ("loss", 2, 1.0 / 3) in points
    assert ("val_loss", 1, 0.5) in points and ("acc", 7, 0.9) in points


def test_progress_gives_log_its_step(project):
    write("train.py", """
import tally
for step, batch in tally.progress(["a", "b", "c"], start=1):
    tally.log(loss=float(step))
tally.log(after=1.0)
""")
    tally("run", "-q", "train.py")
    points = scalar_points()
    assert [(s, v) for tag, s, v in points if tag == "loss"] == [(1, 1.0), (2, 2.0), (3, 3.0)]
    assert [tag for tag, _, _ in points].count("after") == 1


def test_flags_in_a_run_are_typed(project):
    write("train.py", """
import argparse, json, tally
p = argparse.ArgumentParser()
p.add_argument("--lr", type=float, default=0.1)
p.add_argument("--units", type=int, default=64)
p.add_argument("--act", default="relu")
p.parse_args()
print(json.dumps(tally.flags()))
""")
    out = tally("run", "train.py", "lr=0.5", "units=32").stdout
    flags = json.loads(out.splitlines()[0])
    assert flags == {"lr": 0.5, "units": 32, "act": "relu"}
    assert t.flags() == {}


def test_bad_values_are_clear_errors(project, monkeypatch):
    monkeypatch.setenv("TALLY_SCALARS", str(project / "scalars.jsonl"))
    with pytest.raises(TypeError, match="'loss' is 'abc', not a number"):
        t.log(loss="abc")
    with pytest.raises(TypeError, match="step 'x' is not a whole number"):
        t.log(loss=1.0, step="x")
    with pytest.raises(ValueError, match="cannot name a scalar"):
        t.log_dict({"": 1.0})
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        t.log(loss=float("nan"), acc=0.5)
    assert any("non-finite" in str(w.message) for w in caught)
    with open(project / "scalars.jsonl", encoding="utf-8") as f:
        assert f.read() == '{"acc": 0.5}\n'


def test_outside_a_run_log_warns_once_and_records_nothing(project):
    code = """
import warnings, tally
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    tally.log(loss=1.0)
    tally.log(loss=2.0)
print(len(caught), "not in a tracked run" in str(caught[0].message))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["1", "True"]
    assert not os.path.exists("runs")


def test_kill_9_loses_nothing_logged_before_it(project):
    write("train.py", """
import os, time, tally
for step in range(50):
    tally.log(loss=float(step), step=step)
with open("logged.tmp", "w") as f:
    f.write(str(os.getpid()))
os.rename("logged.tmp", "logged")
time.sleep(60)
""")
    proc = subprocess.Popen([TALLY, "run", "-q", "train.py"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    marker = None
    deadline = time.time() + 60
    while time.time() < deadline:  # the script says when it has logged
        found = [os.path.join("runs", d, "logged") for d in os.listdir("runs") if not d.startswith(".")] \
            if os.path.isdir("runs") else []
        marker = next((m for m in found if os.path.exists(m) and open(m).read()), None)
        if marker:
            break
        time.sleep(0.05)
    assert marker, "the script never logged"
    os.kill(int(open(marker).read()), signal.SIGKILL)
    proc.wait(timeout=60)
    points = scalar_points()
    assert [s for tag, s, _ in points if tag == "loss"] == list(range(50))
    status = json.loads(tally("show", "1", "--format", "json").stdout)["status"]
    assert status in ("error", "terminated")


def test_start_makes_a_plain_python_script_a_run(project):
    write("train.py", """
import tally
d = tally.start(flags={"lr": 0.1, "fast": True}, label="from python", tags=["py"])
assert tally.is_active() and tally.run_dir() == d
for step in range(3):
    tally.log(loss=1.0 / (step + 1))
tally.log(acc=0.75, step=10)
""")
    subprocess.run([sys.executable, "train.py"], check=True)
    record = json.loads(tally("show", "1", "--format", "json").stdout)
    assert record["status"] == "completed"
    assert record["flags"] == {"lr": 0.1, "fast": True}
    assert record["label"] == "from python" and record["tags"] == ["py"]
    points = scalar_points()
    assert [(s, v) for tag, s, v in points if tag == "loss"] == [(0, 1.0), (1, 0.5), (2, 1.0 / 3)]
    assert ("acc", 10, 0.75) in points


def test_start_records_an_error_when_the_script_raises(project):
    write("fail.py", """
import tally
tally.start()
tally.log(loss=1.0)
raise RuntimeError("diverged")
""")
    result = subprocess.run([sys.executable, "fail.py"], capture_output=True, text=True)
    assert result.returncode == 1 and "diverged" in result.stderr
    assert json.loads(tally("show", "1", "--format", "json").stdout)["status"] == "error"


def test_start_inside_a_tally_run_does_nothing(project):
    write("train.py", """
import os, tally
assert tally.start() == os.environ["TALLY_RUN_DIR"]
tally.log(loss=0.5, step=1)
""")
    tally("run", "-q", "train.py")
    assert len([d for d in os.listdir("runs") if not d.startswith(".")]) == 1
    assert ("loss", 1, 0.5) in scalar_points()


def test_numpy_scalars_and_odd_names_make_valid_json(project):
    pytest.importorskip("numpy")
    code = """
import numpy as np, tally
tally.log_dict({"loss": np.float64(0.5), "acc": np.float32(0.25), 'we"ird\\nname': np.int64(3)}, step=np.int64(2))
"""
    env = dict(os.environ, TALLY_SCALARS=str(project / "scalars.jsonl"))
    subprocess.run([sys.executable, "-c", code], env=env, check=True)
    with open(project / "scalars.jsonl", encoding="utf-8") as f:
        assert json.loads(f.read()) == {"loss": 0.5, "acc": 0.25, 'we"ird\nname': 3.0, "step": 2}


def test_start_records_sys_exit_failure_as_an_error(project):
    write("exits.py", """
import sys, tally
tally.start()
tally.log(loss=1.0)
sys.exit(3)
""")
    assert subprocess.run([sys.executable, "exits.py"]).returncode == 3
    assert json.loads(tally("show", "1", "--format", "json").stdout)["status"] == "error"
