"""A run's scalar log (.tally/scalars.log, docs/run-format.md) read by the
tests, independently of tally's reader.

    python3 scalarlog.py LOG TAG     prints "step value" per point of TAG, in log order
"""
import struct
import sys
import time

from tfevents import _varint_at  # LEB128, as protobuf writes it


def _unzigzag(v):
    return (v >> 1) ^ -(v & 1)


def _block(body, names):
    """The points of a format-2 block ('B' or 'I'), as (tag, step, value)."""
    pos, time, steps = 1, 0, {}
    while pos < len(body):
        head, pos = _varint_at(body, pos)
        dstep, pos = _varint_at(body, pos)
        dtime, pos = _varint_at(body, pos)
        tag, kind = head >> 2, head & 3
        step = steps.get(tag, 0) + _unzigzag(dstep)
        step = (step + 2**63) % 2**64 - 2**63      # int64 wrap, as the writer's unsigned deltas
        steps[tag] = step
        time += _unzigzag(dtime)
        if kind == 0:
            value = struct.unpack_from("<d", body, pos)[0]
            pos += 8
        elif kind == 1:
            value = struct.unpack_from("<f", body, pos)[0]
            pos += 4
        elif kind == 2:
            packed, pos = _varint_at(body, pos)
            value = _unzigzag(packed >> 4) / 10.0 ** (packed & 15)
        else:
            raise ValueError(f"value kind {kind}")
        yield names.get(tag), step, value


def points(path):
    """(tag, step, value) of every intact record of the log at `path`, in order."""
    try:
        data = open(path, "rb").read()
    except OSError:
        return
    assert not data or data[:8] in (b"TALLYSC1", b"TALLYSC2"), data[:8]
    pos, names = 8, {}
    while pos + 8 <= len(data):
        n = struct.unpack_from("<I", data, pos + 4)[0]
        body = data[pos + 8:pos + 8 + n]
        if len(body) < n:
            break
        pos += 8 + n
        if body[:1] == b"T":
            names[struct.unpack_from("<I", body, 1)[0]] = body[5:].decode()
        elif body[:1] in (b"B", b"I"):
            yield from _block(body, names)
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
