#!/usr/bin/python3
"""Timing helper for the tally benchmarks (standard library only).

usage: bench/lib.py time [-n REPS] [-w WARMUPS] [--out FILE] [--cwd DIR]
                         [--pre SHELL_CMD] [--rss] [--samples] -- CMD ARGS...

Runs CMD (no shell) WARMUPS times untimed, then REPS times, timing each
process with time.perf_counter() around its start and reaping.  stdout goes
to FILE (default /dev/null, truncated before every run); stderr is shown
only when CMD fails.
--pre runs a shell command before every run (warm-ups included), untimed.
--rss reports the peak RSS of the process (KiB, the largest of the runs) as
given by wait4(2), i.e. the same figure as `/usr/bin/time -f %M`.

Prints one line:  MEDIAN_S MIN_S MAX_S PEAK_RSS_KIB   (PEAK_RSS_KIB is "-"
without --rss), then with --samples one more line with every sample in s.
Exits non-zero as soon as CMD (or --pre) fails.

usage: bench/lib.py gen-log SIZE_MiB PATH [--seed S]

Writes about SIZE_MiB MiB (whole lines, never more) of realistic training
log lines of ~80 bytes; every 50th line is `loss: 0.1234`.  Prints the
number of bytes written.
"""

import argparse
import concurrent.futures
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time


def run_once(cmd, out, cwd, want_rss):
    with open(out, "wb") as f, tempfile.TemporaryFile() as err:
        t0 = time.perf_counter()
        p = subprocess.Popen(cmd, stdout=f, stderr=err, cwd=cwd)
        if want_rss:
            _, status, ru = os.wait4(p.pid, 0)
            elapsed = time.perf_counter() - t0
            p.returncode = os.waitstatus_to_exitcode(status)
            rss = ru.ru_maxrss
        else:
            p.wait()
            elapsed = time.perf_counter() - t0
            rss = None
        if p.returncode != 0:
            err.seek(0)
            sys.stderr.buffer.write(err.read()[-4000:])
    if p.returncode != 0:
        sys.exit("lib.py: command failed with status %d: %s"
                 % (p.returncode, " ".join(cmd)))
    return elapsed, rss


def cmd_time(argv):
    ap = argparse.ArgumentParser(prog="lib.py time")
    ap.add_argument("-n", "--reps", type=int, default=7)
    ap.add_argument("-w", "--warmup", type=int, default=0)
    ap.add_argument("--out", default=os.devnull)
    ap.add_argument("--cwd", default=None)
    ap.add_argument("--pre", default=None)
    ap.add_argument("--rss", action="store_true")
    ap.add_argument("--samples", action="store_true")
    ap.add_argument("cmd", nargs=argparse.REMAINDER)
    a = ap.parse_args(argv)
    cmd = a.cmd[1:] if a.cmd[:1] == ["--"] else a.cmd
    if not cmd or a.reps < 1:
        ap.error("need a command and at least one repetition")

    times, peak = [], 0
    for i in range(a.warmup + a.reps):
        if a.pre:
            subprocess.run(a.pre, shell=True, check=True, cwd=a.cwd)
        elapsed, rss = run_once(cmd, a.out, a.cwd, a.rss)
        if i >= a.warmup:
            times.append(elapsed)
            if rss is not None:
                peak = max(peak, rss)
    print("%.6f %.6f %.6f %s" % (statistics.median(times), min(times),
                                 max(times), peak if a.rss else "-"))
    if a.samples:
        print(" ".join("%.6f" % t for t in times))


def log_block(rng, first_step, nlines):
    """nlines log lines of about 80 bytes; every 50th is `loss: 0.1234`."""
    lines = []
    step = first_step
    for i in range(nlines):
        if i % 50 == 49:
            lines.append("loss: %.4f" % (0.05 + rng.random() * 2.0))
            continue
        step += 1
        k = rng.randrange(6)
        h, m, s = (step // 3600) % 24, (step // 60) % 60, step % 60
        ts = "2026-11-23 %02d:%02d:%02d.%03d" % (h, m, s, rng.randrange(1000))
        if k == 0:
            lines.append("%s INFO trainer: epoch %d step %d lr=%.2e grad_norm=%.3f"
                         % (ts, step // 5000 + 1, step, 1e-3 * rng.random(),
                            rng.random() * 4))
        elif k == 1:
            n = rng.randrange(4096)
            lines.append("%s INFO data: loaded shard %05d (%.1f MB) in %d ms"
                         % (ts, n, 10 + rng.random() * 90, rng.randrange(1, 400)))
        elif k == 2:
            lines.append("%s DEBUG cuda: mem allocated=%d MiB reserved=%d MiB"
                         % (ts, rng.randrange(1000, 40000), rng.randrange(40000, 80000)))
        elif k == 3:
            pct = rng.randrange(101)
            bar = "#" * (pct // 10) + " " * (10 - pct // 10)
            lines.append(" %3d%%|%s| %d/5000 [01:%02d<02:%02d, %.2fit/s] train"
                         % (pct, bar, step % 5000, rng.randrange(60),
                            rng.randrange(60), 20 + rng.random() * 10))
        elif k == 4:
            lines.append("%s WARNING amp: gradient overflow, loss scale now %d"
                         % (ts, 2 ** rng.randrange(8, 17)))
        else:
            lines.append("%s INFO eval: batch %d/%d acc=%.4f f1=%.4f ppl=%.3f"
                         % (ts, rng.randrange(500), 500, rng.random(),
                            rng.random(), 1 + rng.random() * 30))
    return "\n".join(lines) + "\n", step


def cmd_gen_log(argv):
    ap = argparse.ArgumentParser(prog="lib.py gen-log")
    ap.add_argument("size_mib", type=float)
    ap.add_argument("path")
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args(argv)
    rng = random.Random(a.seed)
    # A pool of distinct blocks, written in random order: fast, and the
    # content does not repeat with a short period.
    pool, step = [], 0
    for _ in range(64):
        text, step = log_block(rng, step, 2000)
        pool.append(text.encode())
    target = int(a.size_mib * 1024 * 1024)
    written = 0
    with open(a.path, "wb") as f:
        while written < target:
            blk = pool[rng.randrange(len(pool))]
            if written + len(blk) > target:
                cut = blk.rfind(b"\n", 0, target - written)
                blk = blk[:cut + 1] if cut >= 0 else b""
                if not blk:
                    break
            f.write(blk)
            written += len(blk)
    print(written)


def run_jobs(jobs, work, n_workers, report=lambda job, done: True):
    """work(job) for every job, n_workers at a time on threads (the work runs
    processes), the first error stopping the rest; prints "  N/M done, S s"
    after a job when report(job, N) holds, and after the last.  Returns the
    results in the jobs' order and the wall seconds (tpe.py, prune.py)."""
    results = [None] * len(jobs)
    lock = threading.Lock()
    done = [0]
    t_start = time.perf_counter()

    def one(i):
        r = work(jobs[i])
        with lock:
            results[i] = r
            done[0] += 1
            if report(jobs[i], done[0]) or done[0] == len(jobs):
                print("  %d/%d done, %.0f s" % (done[0], len(jobs), time.perf_counter() - t_start),
                      file=sys.stderr, flush=True)

    pool = concurrent.futures.ThreadPoolExecutor(max_workers=n_workers)
    futs = [pool.submit(one, i) for i in range(len(jobs))]
    try:
        for fut in concurrent.futures.as_completed(futs):
            fut.result()
    except BaseException:
        pool.shutdown(wait=True, cancel_futures=True)  # what runs ends; nothing new starts
        raise
    pool.shutdown()
    return results, time.perf_counter() - t_start


def main():
    cmds = {"time": cmd_time, "gen-log": cmd_gen_log}
    if len(sys.argv) < 2 or sys.argv[1] not in cmds:
        sys.exit(__doc__)
    cmds[sys.argv[1]](sys.argv[2:])


if __name__ == "__main__":
    main()
