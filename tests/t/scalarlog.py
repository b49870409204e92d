"""A run's scalar log (.tally/scalars.log, docs/run-format.md) read by the
tests, independently of tally's reader.

    python3 scalarlog.py LOG TAG     prints "step value" per point of TAG, in log order
"""
import struct
import sys
import time


def points(path):
    """(tag, step, value) of every intact record of the log at `path`, in order."""
    try:
        data = open(path, "rb").read()
    except OSError:
        return
    assert not data or data[:8] == b"TALLYSC1", data[:8]
    pos, names = 8, {}
    while pos + 8 <= len(data):
        n = struct.unpack_from("<I", data, pos + 4)[0]
        body = data[pos + 8:pos + 8 + n]
        if len(body) < n:
            break
        pos += 8 + n
        if body[:1] == b"T":
            names[struct.unpack_from("<I", body, 1)[0]] = body[5:].decode()
        elif body[:1] == b"P":
            tag, step, value, _ = struct.unpack_from("<Iqdq", body, 1)
            yield names.get(tag), step, value


def wait_for_points(tag, count, path=".tally/scalars.log", timeout=60.0):
    """Inside a tracked run: wait until tally has logged `count` points of
    `tag`, so a test waits for tally instead of guessing how long it takes."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if sum(1 for t, _, _ in points(path) if t == tag) >= count:
            return
        time.sleep(0.05)
    raise TimeoutError(f"tally logged fewer than {count} points of {tag} in {timeout} s")


if __name__ == "__main__":
    for tag, step, value in points(sys.argv[1]):
        if tag == sys.argv[2]:
            print(step, repr(value))
