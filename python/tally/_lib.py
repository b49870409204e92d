"""libtally through ctypes: finding the library and declaring what is used.

The library is looked for in $TALLY_LIBRARY (a path), then next to a tally
build ($TALLY_BUILD_DIR), then where the dynamic linker and pkg-config find
it.  It is loaded on first use: logging inside a run never needs it.
"""
import ctypes
import ctypes.util
import os
import subprocess

_lib = None


class TallyError(Exception):
    """A libtally call failed; the message is tally's one line."""


def _candidates():
    if os.environ.get("TALLY_LIBRARY"):
        yield os.environ["TALLY_LIBRARY"]
    if os.environ.get("TALLY_BUILD_DIR"):
        yield os.path.join(os.environ["TALLY_BUILD_DIR"], "libtally.so.0")
    found = ctypes.util.find_library("tally")
    if found:
        yield found
    try:
        libdir = subprocess.run(["pkg-config", "--variable=libdir", "tally"], capture_output=True, text=True,
                                check=True).stdout.strip()
        if libdir:
            yield os.path.join(libdir, "libtally.so.0")
    except (OSError, subprocess.CalledProcessError):
        pass
    yield "libtally.so.0"


class _Completion(ctypes.Structure):
    _fields_ = [("value", ctypes.c_char_p), ("description", ctypes.c_char_p)]


class IterOptions(ctypes.Structure):
    """tally_iter_options (version 2)."""
    _fields_ = [("version", ctypes.c_uint), ("limit", ctypes.c_size_t), ("details", ctypes.c_int),
                ("where", ctypes.c_char_p), ("sort", ctypes.c_char_p), ("filter", ctypes.c_char_p)]


class RunOptions(ctypes.Structure):
    """tally_run_options (version 1)."""
    _fields_ = [("version", ctypes.c_uint), ("script", ctypes.c_char_p), ("label", ctypes.c_char_p),
                ("tags", ctypes.POINTER(ctypes.c_char_p)), ("argv", ctypes.POINTER(ctypes.c_char_p))]


SCALAR_VISITOR = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int64, ctypes.c_double,
                                  ctypes.c_int64)

_SIGNATURES = {
    "tally_error_last": ([], ctypes.c_char_p),
    "tally_version": ([], ctypes.c_char_p),
    "tally_store_open": ([ctypes.POINTER(ctypes.c_void_p), ctypes.c_char_p], ctypes.c_int),
    "tally_store_free": ([ctypes.c_void_p], None),
    "tally_store_path": ([ctypes.c_void_p], ctypes.c_char_p),
    "tally_table_new": ([ctypes.POINTER(ctypes.c_void_p), ctypes.c_void_p, ctypes.POINTER(IterOptions)],
                        ctypes.c_int),
    "tally_table_rows": ([ctypes.c_void_p], ctypes.c_size_t),
    "tally_table_columns": ([ctypes.c_void_p], ctypes.c_size_t),
    "tally_table_column_name": ([ctypes.c_void_p, ctypes.c_size_t], ctypes.c_char_p),
    "tally_table_column_type": ([ctypes.c_void_p, ctypes.c_size_t], ctypes.c_int),
    "tally_table_has": ([ctypes.c_void_p, ctypes.c_size_t, ctypes.c_size_t], ctypes.c_int),
    "tally_table_number": ([ctypes.c_void_p, ctypes.c_size_t, ctypes.c_size_t], ctypes.c_double),
    "tally_table_text": ([ctypes.c_void_p, ctypes.c_size_t, ctypes.c_size_t], ctypes.c_char_p),
    "tally_table_free": ([ctypes.c_void_p], None),
    "tally_table_column_numbers": ([ctypes.c_void_p, ctypes.c_size_t, ctypes.c_void_p, ctypes.c_void_p],
                                   ctypes.c_int),
    "tally_table_column_texts": ([ctypes.c_void_p, ctypes.c_size_t, ctypes.c_void_p], ctypes.c_int),
    "tally_run_lookup": ([ctypes.POINTER(ctypes.c_void_p), ctypes.c_void_p, ctypes.c_char_p], ctypes.c_int),
    "tally_run_free": ([ctypes.c_void_p], None),
    "tally_run_id": ([ctypes.c_void_p], ctypes.c_char_p),
    "tally_run_dir": ([ctypes.c_void_p], ctypes.c_char_p),
    "tally_run_json": ([ctypes.c_void_p], ctypes.c_char_p),
    "tally_run_scalars_json": ([ctypes.c_void_p], ctypes.c_char_p),
    "tally_run_files_json": ([ctypes.c_void_p, ctypes.c_size_t, ctypes.POINTER(ctypes.c_void_p)], ctypes.c_int),
    "tally_run_output_tail": ([ctypes.c_void_p, ctypes.c_size_t, ctypes.POINTER(ctypes.c_void_p)], ctypes.c_int),
    "tally_run_scalar_points": ([ctypes.c_void_p, SCALAR_VISITOR, ctypes.c_void_p], ctypes.c_int),
    "tally_run_create": ([ctypes.POINTER(ctypes.c_void_p), ctypes.c_void_p, ctypes.POINTER(RunOptions)],
                         ctypes.c_int),
    "tally_run_set_flag": ([ctypes.c_void_p, ctypes.c_char_p, ctypes.c_char_p], ctypes.c_int),
    "tally_log_scalar": ([ctypes.c_void_p, ctypes.c_char_p, ctypes.c_double, ctypes.c_int64], ctypes.c_int),
    "tally_run_finish": ([ctypes.c_void_p, ctypes.c_int], ctypes.c_int),
}


def lib():
    """The loaded libtally, its functions declared."""
    global _lib
    if _lib is not None:
        return _lib
    errors = []
    for path in _candidates():
        try:
            loaded = ctypes.CDLL(path)
            break
        except OSError as e:
            errors.append(str(e))
    else:
        raise TallyError("libtally is not installed — run tally's scripts/install (or set TALLY_LIBRARY); "
                         + "; ".join(errors[:2]))
    for name, (args, result) in _SIGNATURES.items():
        fn = getattr(loaded, name)
        fn.argtypes = args
        fn.restype = result
    _lib = loaded
    return _lib


def check(rc):
    """Raise TallyError with libtally's message when `rc` says a call failed."""
    if rc < 0:
        message = lib().tally_error_last()
        raise TallyError(message.decode("utf-8", "replace") if message else "libtally failed (%d)" % rc)
    return rc


_libc = ctypes.CDLL(None)
_libc.free.argtypes = [ctypes.c_void_p]


def take_string(fn, *args):
    """Call a libtally function that hands back a malloc'ed string; the str, freed."""
    out = ctypes.c_void_p()
    check(fn(*args, ctypes.byref(out)))
    try:
        return ctypes.string_at(out).decode("utf-8", "replace") if out.value else ""
    finally:
        _libc.free(out)


def text(value):
    return value.encode("utf-8") if isinstance(value, str) else value
