import csv
import io
import json

import pandas as pd
import pytest

from conftest import tally, write

import tally as t


@pytest.fixture
def three_runs(project):
    write("train.py", """
import argparse, tally
p = argparse.ArgumentParser()
p.add_argument("--lr", type=float, default=0.1)
p.add_argument("--opt", default="adam")
a = p.parse_args()
for step in range(3):
    tally.log(loss=a.lr / (step + 1), val_acc=1 - a.lr, step=step)
""")
    for lr in ("0.1", "0.3", "0.2"):
        tally("run", "-q", "train.py", "lr=" + lr)
    tally("tag", "-y", "2", "+best")
    return project


def test_runs_columns_and_types_match_the_cli(three_runs):
    df = t.runs()
    assert len(df) == 3
    header = next(csv.reader(io.StringIO(tally("runs", "--format", "csv").stdout)))
    for column in ("id", "status", "started", "stopped", "exit_status", "label", "script"):
        assert column in header and column in df.columns
    assert {"flag_lr", "flag_opt", "scalar_loss", "scalar_val_acc"} <= set(df.columns)
    assert str(df["started"].dtype) == "datetime64[ns, UTC]"
    assert df["flag_lr"].dtype == "float64" and df["flag_opt"].dtype == object
    assert str(df["exit_status"].dtype) == "Int64"
    assert list(df["flag_lr"]) == [0.2, 0.3, 0.1]  # newest first
    assert list(df["tags"]) == [None, "best", None]
    cli = json.loads(tally("runs", "--format", "json").stdout)
    assert list(df["id"]) == [r["id"] for r in cli]


def test_where_sort_limit_and_bad_queries(three_runs):
    assert list(t.runs(where="lr > 0.15", sort="lr")["flag_lr"]) == [0.2, 0.3]
    assert list(t.runs(sort="-val_acc", limit=1)["flag_lr"]) == [0.1]
    assert len(t.runs(where="status = error")) == 0
    with pytest.raises(t.TallyError, match="column"):
        t.runs(where="lr >")
    with pytest.raises(t.TallyError):
        t.runs(sort="-")


def test_run_and_scalars(three_runs):
    record = t.run(1)
    assert record["flags"]["lr"] == 0.2 and record["status"] == "completed"
    shown = json.loads(tally("show", "1", "--format", "json").stdout)
    assert set(shown) <= set(record)
    assert record["scalars"]["loss"]["count"] == 3 and record["scalars"] == shown["scalars"]
    assert record["files"] == shown["files"]
    assert record["dir"].endswith(record["id"])
    assert t.run(record["id"][-6:])["id"] == record["id"]
    points = t.scalars(1)
    assert list(points.columns) == ["run", "tag", "step", "value", "time"]
    assert list(points[points["tag"] == "loss"]["step"]) == [0, 1, 2]
    both = t.scalars(t.runs(limit=2), tags=["val_acc"])
    assert set(both["tag"]) == {"val_acc"} and both["run"].nunique() == 2
    with pytest.raises(t.TallyError, match="nosuch"):
        t.run("nosuch")


def test_an_empty_runs_directory(project):
    df = t.runs()
    assert len(df) == 0 and "id" in df.columns
