#!/usr/bin/python3
"""Create N synthetic but valid tally run directories, fast.

usage: bench/make-runs.py N RUNS_DIR [--seed S] [--jobs J]

Each run is RUNS_DIR/<id>/.tally/{run.json,scalars.json,lock} in tally's
on-disk format (format 1).  Start times are spread over the past N minutes
(run i starts roughly i minutes after the oldest), so ids are distinct and
sort by time.  Files are written plainly, without fsync.  Standard library
only.
"""

import argparse
import json
import math
import os
import random
import sys
import time
from datetime import datetime, timezone

ID_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"
LRS = (0.1, 0.03, 0.01, 0.003, 0.001)
UNITS = (32, 64, 128, 256)
OPTIMIZERS = ("adam", "sgd")
STEPS = 20


def iso_ms(ms):
    dt = datetime.fromtimestamp(ms // 1000, tz=timezone.utc)
    return "%s.%03dZ" % (dt.strftime("%Y-%m-%dT%H:%M:%S"), ms % 1000)


def summary(values):
    lo = min(range(len(values)), key=values.__getitem__)
    hi = max(range(len(values)), key=values.__getitem__)
    return {
        "first": values[0], "first_step": 0,
        "last": values[-1], "last_step": len(values) - 1,
        "min": values[lo], "min_step": lo,
        "max": values[hi], "max_step": hi,
        "avg": round(sum(values) / len(values), 6),
        "count": len(values),
    }


def make_one(rng, started_ms, taken):
    """Return (id, run_json_text, scalars_json_text) for one run."""
    dt = datetime.fromtimestamp(started_ms // 1000, tz=timezone.utc)
    stamp = dt.strftime("%Y-%m-%dT%H-%M-%SZ")
    while True:
        rid = stamp + "-" + "".join(rng.choice(ID_ALPHABET) for _ in range(6))
        if rid not in taken:
            taken.add(rid)
            break

    lr = rng.choice(LRS)
    units = rng.choice(UNITS)
    opt = rng.choice(OPTIMIZERS)
    failed = rng.random() < 0.05
    duration_ms = rng.randint(5_000, 50_000)
    stopped_ms = started_ms + duration_ms

    run = {
        "format": 1,
        "id": rid,
        "status": "error" if failed else "completed",
        "started": iso_ms(started_ms),
        "started_ms": started_ms,
        "stopped": iso_ms(stopped_ms),
        "stopped_ms": stopped_ms,
        "exit_status": 1 if failed else 0,
        "signal": None,
        "script": "train.py",
        "command": ["python3", "train.py", "--lr", repr(lr), "--units",
                    str(units), "--optimizer", opt],
        "flags": {"lr": lr, "units": units, "optimizer": opt},
        "label": "",
        "tags": [],
        "host": "benchhost",
        "user": "bench",
        "pid": rng.randint(1000, 4_000_000),
        "tally_version": "0.1.0",
        "project_dir": "/tmp/proj",
    }

    # A plausible training curve: loss decays with noise, accuracy rises.
    l0 = 2.3 + rng.random() * 0.2
    rate = 0.05 + rng.random() * 0.25
    a_end = 0.6 + rng.random() * 0.38
    loss, acc = [], []
    for s in range(STEPS):
        e = math.exp(-rate * s)
        loss.append(round(l0 * e + 0.05 + rng.random() * 0.03, 4))
        acc.append(round(a_end * (1 - e) + 0.1 + rng.random() * 0.02, 4))
    if failed:  # an error run stops early
        n = rng.randint(1, STEPS - 1)
        loss, acc = loss[:n], acc[:n]
    scalars = {"loss": summary(loss), "val_acc": summary(acc)}
    return rid, json.dumps(run, indent=2) + "\n", json.dumps(scalars) + "\n"


def write_runs(runs_dir, items):
    mkdir = os.mkdir
    join = os.path.join
    for rid, run_text, scal_text in items:
        d = join(runs_dir, rid)
        t = join(d, ".tally")
        mkdir(d)
        mkdir(t)
        with open(join(t, "run.json"), "w") as f:
            f.write(run_text)
        with open(join(t, "scalars.json"), "w") as f:
            f.write(scal_text)
        os.close(os.open(join(t, "lock"), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("n", type=int, metavar="N")
    ap.add_argument("runs_dir", metavar="RUNS_DIR")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--jobs", type=int, default=min(4, os.cpu_count() or 1),
                    help="writer processes (default: CPUs, at most 4)")
    args = ap.parse_args()
    if args.n < 0:
        ap.error("N must be >= 0")

    t0 = time.perf_counter()
    os.makedirs(args.runs_dir, exist_ok=True)
    rng = random.Random(args.seed)
    taken = set(e for e in os.listdir(args.runs_dir))
    now_ms = int(time.time() * 1000)
    base_ms = now_ms - args.n * 60_000
    items = []
    for i in range(args.n):
        started = base_ms + i * 60_000 + rng.randint(0, 50_000)
        items.append(make_one(rng, started, taken))

    jobs = max(1, args.jobs)
    if jobs > 1 and args.n >= 2000:
        chunk = (len(items) + jobs - 1) // jobs
        pids = []
        for j in range(jobs):
            part = items[j * chunk:(j + 1) * chunk]
            pid = os.fork()
            if pid == 0:
                code = 0
                try:
                    write_runs(args.runs_dir, part)
                except BaseException as e:  # report and fail the child
                    print("make-runs: %s" % e, file=sys.stderr)
                    code = 1
                os._exit(code)
            pids.append(pid)
        bad = 0
        for pid in pids:
            _, st = os.waitpid(pid, 0)
            if os.waitstatus_to_exitcode(st) != 0:
                bad += 1
        if bad:
            sys.exit("make-runs: %d writer(s) failed" % bad)
    else:
        write_runs(args.runs_dir, items)

    print("make-runs: %d runs in %s (%.1f s)"
          % (args.n, args.runs_dir, time.perf_counter() - t0), file=sys.stderr)


if __name__ == "__main__":
    main()
