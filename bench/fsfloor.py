#!/usr/bin/python3
"""The floor under `tally run`'s overhead on this filesystem: the file
operations a run directory needs, done by Python without tally, timed in
process (no interpreter start-up counted).

    bench/fsfloor.py [DIR] [N]      (default: a temporary folder in $TMPDIR, 200 runs)

Before the script starts: the run's two folders (mkdir), its lock, run.json
twice, env.json and sources.json (each a temporary file renamed into place),
one copied source, output, output.idx and scalars.log.  After it ends: the
edit lock, run.json written atomically with an fsync, and an fsync of
.tally/ (what makes a finished run's status survive a power cut).  Prints the
medians in ms; tally's own overhead (bench/overhead.sh) cannot go below their
sum, whatever its code does.
"""
import os
import shutil
import statistics
import sys
import tempfile
import time


def write(meta, name, data=b"{}", sync=False, atomic=True):
    path = os.path.join(meta, name)
    target = path + ".tmp" if atomic else path
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o666)
    os.write(fd, data)
    if sync:
        os.fsync(fd)
    os.close(fd)
    if atomic:
        os.rename(target, path)


def one_run(base, i):
    run = os.path.join(base, f"run{i}")
    meta = os.path.join(run, ".tally")
    start = time.perf_counter()
    os.mkdir(run)
    os.mkdir(meta)
    write(meta, "lock", b"", atomic=False)
    write(meta, "run.json", b"{" + b" " * 800 + b"}")
    write(meta, "env.json", b"{" + b" " * 2000 + b"}")
    write(meta, "sources.json")
    write(run, "train.sh", b"echo hi\n", atomic=False)
    write(meta, "run.json", b"{" + b" " * 900 + b"}")
    for name in ("output", "output.idx", "scalars.log"):
        write(meta, name, b"x", atomic=False)
    started = time.perf_counter()
    write(meta, "edit.lock", b"", atomic=False)
    write(meta, "run.json", b"{" + b" " * 1000 + b"}", sync=True)
    fd = os.open(meta, os.O_RDONLY)
    os.fsync(fd)
    os.close(fd)
    return (started - start) * 1000, (time.perf_counter() - started) * 1000


def main():
    parent = sys.argv[1] if len(sys.argv) > 1 else None
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 200
    base = tempfile.mkdtemp(prefix="tally-fsfloor.", dir=parent)
    try:
        times = [one_run(base, i) for i in range(n)]
    finally:
        shutil.rmtree(base, ignore_errors=True)
    before = statistics.median(t for t, _ in times)
    after = statistics.median(t for _, t in times)
    print(f"file operations of a run alone: {before:.2f} ms before the script, {after:.2f} ms after it, "
          f"{before + after:.2f} ms in all (medians of {n})")


if __name__ == "__main__":
    main()
