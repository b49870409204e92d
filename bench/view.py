#!/usr/bin/python3
"""The costs of tally view's server, measured against a running `tally view`.

usage: bench/view.py runs URL [-n REPS]        /api/runs pages at whatever the server holds
       bench/view.py scalars URL RUN [-n REPS]  a big run's scalars downsampled to 2,000 points
       bench/view.py tabs URL RUN PID [--tabs N] [--seconds S]
                                                N event streams following RUN: the server's
                                                CPU (share of one core) and memory

Each timing is a fresh connection per request, as a browser's first load
makes it, with a static asset of the same server (/assets/view.css)
measured in the same run as the baseline.  Standard library only;
bench/view.sh prepares the runs and the server.
"""

import argparse
import http.client
import os
import statistics
import sys
import threading
import time
import urllib.parse


def get(url, path):
    """Milliseconds to fetch `path` on a new connection (status must be 200), and the bytes."""
    u = urllib.parse.urlsplit(url)
    start = time.perf_counter()
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
    conn.request("GET", path)
    resp = conn.getresponse()
    body = resp.read()
    elapsed = (time.perf_counter() - start) * 1000
    conn.close()
    if resp.status != 200:
        sys.exit("view.py: GET %s answered %d: %s" % (path, resp.status, body[:200]))
    return elapsed, body


def median_ms(url, path, reps):
    get(url, path)  # warm: the first request after a change pays the index sync
    return statistics.median(get(url, path)[0] for _ in range(reps))


def bench_runs(args):
    cases = [
        ("baseline: GET /assets/view.css", "/assets/view.css"),
        ("/api/runs first page (100 rows)", "/api/runs?limit=100"),
        ("/api/runs page at offset 50,000", "/api/runs?limit=100&offset=50000"),
        ("/api/runs sort=-val_acc, first page", "/api/runs?limit=100&sort=-val_acc"),
        ("/api/runs where=lr<0.01 sort=-val_acc", "/api/runs?limit=100&where=lr%3C0.01&sort=-val_acc"),
        ("/api/columns", "/api/columns"),
    ]
    print("%-42s %10s" % ("request", "median ms"))
    for name, path in cases:
        print("%-42s %10.2f" % (name, median_ms(args.url, path, args.reps)))


def bench_scalars(args):
    base = median_ms(args.url, "/assets/view.css", args.reps)
    path = "/api/runs/%s/scalars?points=2000" % args.run
    ms = median_ms(args.url, path, args.reps)
    _, body = get(args.url, path)
    print("%-42s %10s" % ("request", "median ms"))
    print("%-42s %10.2f" % ("baseline: GET /assets/view.css", base))
    print("%-42s %10.2f   (%d bytes)" % ("scalars, 1M points -> 2,000", ms, len(body)))


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def follow(url, run, stop, counts, i):
    """One tab: an event stream on RUN, read until `stop`; counts the events."""
    u = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
    conn.request("GET", "/api/events?run=%s&scalars_from=0&output_from=0" % run)
    resp = conn.getresponse()
    while not stop.is_set():
        line = resp.fp.readline()
        if not line:
            break
        if line.startswith(b"event:"):
            counts[i] += 1
    conn.close()


def bench_tabs(args):
    stop = threading.Event()
    counts = [0] * args.tabs
    threads = [threading.Thread(target=follow, args=(args.url, args.run, stop, counts, i), daemon=True)
               for i in range(args.tabs)]
    for t in threads:
        t.start()
    time.sleep(2)  # every stream connected and past its first events
    cpu0, rss0, t0 = cpu_seconds(args.pid), rss_kib(args.pid), time.monotonic()
    samples = []
    while time.monotonic() - t0 < args.seconds:
        time.sleep(1)
        samples.append(rss_kib(args.pid))
    cpu1, t1 = cpu_seconds(args.pid), time.monotonic()
    stop.set()
    share = 100 * (cpu1 - cpu0) / (t1 - t0)
    print("tabs following a running run: %d, for %.0f s" % (args.tabs, t1 - t0))
    print("server CPU: %.1f %% of one core" % share)
    print("server RSS: %.1f MiB at the start, %.1f MiB at the end (max %.1f)" %
          (rss0 / 1024, samples[-1] / 1024, max(samples) / 1024))
    print("events received per tab: median %d" % statistics.median(counts))


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="what", required=True)
    r = sub.add_parser("runs")
    r.add_argument("url")
    r.add_argument("-n", "--reps", type=int, default=15)
    s = sub.add_parser("scalars")
    s.add_argument("url")
    s.add_argument("run")
    s.add_argument("-n", "--reps", type=int, default=9)
    t = sub.add_parser("tabs")
    t.add_argument("url")
    t.add_argument("run")
    t.add_argument("pid", type=int)
    t.add_argument("--tabs", type=int, default=50)
    t.add_argument("--seconds", type=float, default=20)
    args = p.parse_args()
    {"runs": bench_runs, "scalars": bench_scalars, "tabs": bench_tabs}[args.what](args)


main()
