"""Logging from a training script.

Inside a run that tally started, log() appends a JSON line to the file named
by $TALLY_SCALARS, with one write(2) per call: once log() returns the line is
the kernel's, so a crash or kill -9 of the script loses nothing logged
before it.  tally reads the file as the run goes.  After start() (a script
run by plain `python`), points go to the run libtally created instead.
"""
import atexit
import ctypes
import json
import math
import os
import sys
import warnings

from . import _lib

_fd = None            # the scalar file, opened on first use ($TALLY_SCALARS is the run's for good)
_names = {}           # scalar name -> its JSON text, made once
current_step = None   # the step of a tally.progress() loop
_own_run = None       # the run start() made: (store, run) handles
_warned = set()


def _warn_once(key, message):
    if key not in _warned:
        _warned.add(key)
        warnings.warn(message, stacklevel=3)


def _number(name, value):
    """A plain float (numpy scalars and tensors too: their repr is no JSON)."""
    if type(value) is float:
        return value
    if isinstance(value, (bool, str, bytes)):
        raise TypeError("tally.log: %r is %r, not a number" % (name, value))
    try:
        return float(value)
    except (TypeError, ValueError):
        raise TypeError("tally.log: %r is %r, not a number" % (name, value)) from None


def _scalar_file():
    global _fd
    if _fd is None:
        path = os.environ.get("TALLY_SCALARS")
        if not path:
            return None
        _fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o644)
    return _fd


def log_dict(scalars, step=None):
    """Log the numbers of `scalars` (name -> value) at `step` (default: the
    line's index in the run, as tally counts them)."""
    parts = []
    for name, value in scalars.items():
        if not isinstance(name, str) or not name or name == "step":
            raise ValueError("tally.log: %r cannot name a scalar" % (name,))
        value = _number(name, value)
        if not math.isfinite(value):
            _warn_once(("nan", name), "tally.log: %r is %r; non-finite values are not recorded" % (name, value))
            continue
        key = _names.get(name)
        if key is None:
            key = _names[name] = json.dumps(name)
        parts.append("%s: %r" % (key, value))
    if step is None:
        step = current_step
    if step is not None:
        if isinstance(step, bool) or not isinstance(step, int):
            try:
                step = int(step)
            except (TypeError, ValueError):
                raise TypeError("tally.log: step %r is not a whole number" % (step,)) from None
    if _own_run is not None:
        return _log_to_own_run(scalars, step)
    fd = _scalar_file()
    if fd is None:
        _warn_once("inactive", "tally.log: not in a tracked run (run the script with `tally run`, or call "
                   "tally.start()); nothing is recorded")
        return
    if not parts:
        return
    if step is not None:
        parts.append('"step": %d' % step)
    os.write(fd, ("{" + ", ".join(parts) + "}\n").encode("utf-8"))


def log(step=None, **scalars):
    """Log scalars by name: tally.log(loss=0.3, val_loss=0.4, step=5)."""
    log_dict(scalars, step=step)


def run_dir():
    """The directory of the run this script is (tally run, or tally.start()); else the working directory."""
    return os.environ.get("TALLY_RUN_DIR") or os.getcwd()


def is_active():
    """Whether this script is a tracked run."""
    return bool(os.environ.get("TALLY_RUN_DIR"))


# ---- a run of this script, started from Python (like mlflow.start_run()) ----

_steps = {}


def _log_to_own_run(scalars, step):
    store, run = _own_run
    lib = _lib.lib()
    for name, value in scalars.items():
        value = float(value)
        if not math.isfinite(value):
            continue
        at = step if step is not None else _steps.get(name, -1) + 1
        _steps[name] = at
        _lib.check(lib.tally_log_scalar(run, _lib.text(name), value, at))


def start(flags=None, label=None, tags=None, runs_dir=None):
    """Make this script a tracked run when it was not started by `tally run`:
    a run is created (with `flags`, a dict, and `label`/`tags`) and finished
    when the interpreter exits — completed, or error when an exception ends
    the script.  Inside a run tally started, it does nothing.  Returns the
    run's directory."""
    global _own_run
    if is_active() or _own_run is not None:
        return run_dir()
    lib = _lib.lib()
    store = ctypes.c_void_p()
    _lib.check(lib.tally_store_open(ctypes.byref(store), _lib.text(runs_dir)))
    argv = [_lib.text(a) for a in [sys.executable] + sys.argv] + [None]
    tag_list = [_lib.text(t) for t in (tags or [])] + [None]
    opts = _lib.RunOptions(1, _lib.text(sys.argv[0] if sys.argv and sys.argv[0] else "python"), _lib.text(label),
                           (ctypes.c_char_p * len(tag_list))(*tag_list), (ctypes.c_char_p * len(argv))(*argv))
    run = ctypes.c_void_p()
    rc = lib.tally_run_create(ctypes.byref(run), store, ctypes.byref(opts))
    if rc < 0:
        lib.tally_store_free(store)
        _lib.check(rc)
    _own_run = (store, run)  # from here the run is finished at exit, whatever fails next
    _hook_exit()
    for name, value in (flags or {}).items():
        text = ("true" if value else "false") if isinstance(value, bool) else str(value)
        _lib.check(lib.tally_run_set_flag(run, _lib.text(name), _lib.text(text)))
    directory = lib.tally_run_dir(run).decode()
    os.environ["TALLY_RUN_DIR"] = directory
    os.environ["TALLY_RUN_ID"] = lib.tally_run_id(run).decode()
    return directory


_failed = False


def _hook_exit():
    """An uncaught exception, or sys.exit() with a failing status, makes the run an error."""
    previous_hook, previous_exit = sys.excepthook, sys.exit

    def excepthook(kind, value, traceback):
        global _failed
        _failed = True
        previous_hook(kind, value, traceback)

    def exit(status=None):
        global _failed
        _failed = status not in (None, 0)
        previous_exit(status)

    sys.excepthook = excepthook
    sys.exit = exit
    atexit.register(_finish)


def _finish():
    global _own_run
    if _own_run is None:
        return
    store, run = _own_run
    _own_run = None
    lib = _lib.lib()
    lib.tally_run_finish(run, 1 if _failed else 0)
    lib.tally_run_free(run)
    lib.tally_store_free(store)
