"""TensorBoard event files by hand, for the tests: the TFRecord framing and
the protobuf wire format written out byte by byte from their specifications
(no TensorFlow here), so tally's reader and writer are checked against an
implementation that shares no code with them.

    import tfevents
    w = tfevents.Writer("logs/train/events.out.tfevents.1.host")
    w.scalar("epoch_loss", 0.5, step=1)                  # simple_value (TF1, PyTorch)
    w.tensor_scalar("epoch_accuracy", 0.9, step=1)       # TF2 tensor form
    for event in tfevents.read("file"): ...              # dicts, CRCs checked
"""
import struct

_POLY = 0x82F63B78
_TABLE = []
for _i in range(256):
    _c = _i
    for _ in range(8):
        _c = (_c >> 1) ^ _POLY if _c & 1 else _c >> 1
    _TABLE.append(_c)


def crc32c(data):
    crc = 0xFFFFFFFF
    for b in data:
        crc = _TABLE[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def masked_crc(data):
    crc = crc32c(data)
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def record(data, bad_data_crc=False, bad_length_crc=False):
    head = struct.pack("<Q", len(data))
    lcrc = masked_crc(head) ^ (1 if bad_length_crc else 0)
    dcrc = masked_crc(data) ^ (1 if bad_data_crc else 0)
    return head + struct.pack("<I", lcrc) + data + struct.pack("<I", dcrc)


# ---- protobuf wire format ----

def varint(n):
    n &= (1 << 64) - 1
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def key(field, wire):
    return varint(field << 3 | wire)


def f_varint(field, n):
    return key(field, 0) + varint(n)


def f_bytes(field, data):
    if isinstance(data, str):
        data = data.encode()
    return key(field, 2) + varint(len(data)) + data


def f_double(field, x):
    return key(field, 1) + struct.pack("<d", x)


def f_float(field, x):
    return key(field, 5) + struct.pack("<f", x)


def event(wall_time, step, summary=None, file_version=None):
    out = f_double(1, wall_time) + f_varint(2, step)
    if file_version is not None:
        out += f_bytes(3, file_version)
    if summary is not None:
        out += f_bytes(5, summary)
    return out


def summary(*values):
    return b"".join(f_bytes(1, v) for v in values)


def simple_value(tag, x):
    return f_bytes(1, tag) + f_float(2, x)


def tensor_value(tag, tensor, plugin=None, data_class=None):
    out = f_bytes(1, tag)
    meta = b""
    if plugin is not None:
        meta += f_bytes(1, f_bytes(1, plugin) + f_bytes(2, b""))
    if data_class is not None:
        meta += f_varint(4, data_class)
    if plugin is not None or data_class is not None:
        out += f_bytes(9, meta)
    return out + f_bytes(8, tensor)


def float_tensor_content(x):  # DT_FLOAT, shape [], tensor_content (how TF2 writes)
    return f_varint(1, 1) + f_bytes(2, b"") + f_bytes(4, struct.pack("<f", x))


def double_tensor_val(x):     # DT_DOUBLE, packed double_val
    return f_varint(1, 2) + f_bytes(6, struct.pack("<d", x))


def half_tensor_val(bits):    # DT_HALF, packed half_val
    return f_varint(1, 19) + f_bytes(13, varint(bits))


class Writer:
    def __init__(self, path):
        import os
        os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
        self.f = open(path, "ab")
        self.raw(event(1700000000.0, 0, file_version="brain.Event:2"))

    def raw(self, data, **bad):
        self.f.write(record(data, **bad))
        self.f.flush()

    def scalar(self, tag, x, step, **bad):
        self.raw(event(1700000000.0 + step, step, summary(simple_value(tag, x))), **bad)

    def tensor_scalar(self, tag, x, step, first=True):
        meta = {"plugin": "scalars", "data_class": 1} if first else {}
        self.raw(event(1700000000.0 + step, step, summary(tensor_value(tag, float_tensor_content(x), **meta))))

    def close(self):
        self.f.close()


# ---- reading ----

def fields(buf):
    """(field, wire, value) of one protobuf message, in order."""
    i = 0
    while i < len(buf):
        k, i = _varint_at(buf, i)
        field, wire = k >> 3, k & 7
        if wire == 0:
            v, i = _varint_at(buf, i)
        elif wire == 1:
            v, i = buf[i:i + 8], i + 8
        elif wire == 5:
            v, i = buf[i:i + 4], i + 4
        elif wire == 2:
            n, i = _varint_at(buf, i)
            v, i = buf[i:i + n], i + n
        else:
            raise ValueError("wire type %d" % wire)
        yield field, wire, v


def _varint_at(buf, i):
    n = shift = 0
    while True:
        b = buf[i]
        i += 1
        n |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            return n, i


def read(path):
    """Every event of a file as a dict; any framing or CRC error raises."""
    data = open(path, "rb").read()
    i = 0
    while i < len(data):
        (n,) = struct.unpack_from("<Q", data, i)
        (lcrc,) = struct.unpack_from("<I", data, i + 8)
        assert lcrc == masked_crc(data[i:i + 8]), "length crc at %d" % i
        body = data[i + 12:i + 12 + n]
        (dcrc,) = struct.unpack_from("<I", data, i + 12 + n)
        assert dcrc == masked_crc(body), "data crc at %d" % i
        i += 16 + n
        ev = {}
        for field, wire, v in fields(body):
            if field == 1:
                ev["wall_time"] = struct.unpack("<d", v)[0]
            elif field == 2:
                ev["step"] = v
            elif field == 3:
                ev["file_version"] = v.decode()
            elif field == 5:
                ev["values"] = []
                for f, _, val in fields(v):
                    assert f == 1
                    d = {}
                    for vf, _, vv in fields(val):
                        if vf == 1:
                            d["tag"] = vv.decode()
                        elif vf == 2:
                            d["simple_value"] = struct.unpack("<f", vv)[0]
                    ev["values"].append(d)
        yield ev

