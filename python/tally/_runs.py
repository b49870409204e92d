"""Reading runs through libtally: data frames straight from tally's index."""
import ctypes
import json
import os

from . import _lib

TEXT, NUMBER, INTEGER, BOOL, TIME = range(5)  # tally_column_type


class _Store:
    def __init__(self, runs_dir):
        self.lib = _lib.lib()
        self.handle = ctypes.c_void_p()
        _lib.check(self.lib.tally_store_open(ctypes.byref(self.handle), _lib.text(runs_dir)))

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.lib.tally_store_free(self.handle)


def _columns(runs_dir, where, sort, limit):
    """The runs table as {name: (type, values, has)}, in order: `values` a
    ctypes array of doubles (numbers) or a list of str/None (text), `has`
    a ctypes array of 0/1.  A column is copied out in one call."""
    with _Store(runs_dir) as store:
        lib = store.lib
        opts = _lib.IterOptions(2, int(limit or 0), 0, _lib.text(where), _lib.text(sort), None)
        table = ctypes.c_void_p()
        _lib.check(lib.tally_table_new(ctypes.byref(table), store.handle, ctypes.byref(opts)))
        try:
            rows = lib.tally_table_rows(table)
            out = {}
            for c in range(lib.tally_table_columns(table)):
                name = lib.tally_table_column_name(table, c).decode("utf-8")
                kind = lib.tally_table_column_type(table, c)
                has = (ctypes.c_ubyte * rows)()
                if kind == TEXT:
                    texts = (ctypes.c_char_p * rows)()
                    _lib.check(lib.tally_table_column_texts(table, c, texts))
                    values = [v.decode("utf-8", "replace") if v is not None else None for v in texts]
                else:
                    values = (ctypes.c_double * rows)()
                    _lib.check(lib.tally_table_column_numbers(table, c, values, has))
                out[name] = (kind, values, has)
            return out
        finally:
            lib.tally_table_free(table)


def runs(where=None, sort=None, limit=None, runs_dir=None):
    """The runs (newest first, or by `sort`) for which `where` holds, as a
    pandas DataFrame: id, dir, status, started, stopped (timestamps, UTC),
    exit_status, label, script, tags, epochs_completed, then flag_NAME and
    scalar_NAME (last value) columns, typed.  `where` and `sort` are the
    query language of `tally runs --where/--sort` (tally help query)."""
    import pandas as pd

    import numpy as np

    columns = _columns(runs_dir, where, sort, limit)
    frame = {}
    for name, (kind, values, has) in columns.items():
        if kind == TEXT:
            frame[name] = pd.Series(values, dtype="object")
            continue
        numbers = np.frombuffer(values, dtype=np.float64) if len(values) else np.zeros(0)
        missing = np.frombuffer(has, dtype=np.uint8) == 0 if len(has) else np.zeros(0, dtype=bool)
        if kind == TIME:
            frame[name] = pd.to_datetime(pd.Series(np.where(missing, np.nan, numbers)), unit="ms", utc=True)
        elif kind == INTEGER:
            frame[name] = pd.Series(pd.arrays.IntegerArray(numbers.astype(np.int64), missing))
        elif kind == BOOL:
            frame[name] = pd.Series(pd.arrays.BooleanArray(numbers != 0, missing))
        else:
            frame[name] = pd.Series(np.where(missing, np.nan, numbers))
    return pd.DataFrame(frame)


def _lookup(store, ref):
    run = ctypes.c_void_p()
    _lib.check(store.lib.tally_run_lookup(ctypes.byref(run), store.handle, _lib.text(str(ref))))
    return run


def run(ref, runs_dir=None, tail=20):
    """Everything recorded about one run (an index like 1, an id or its
    random part, a name, a directory) as a dict, as `tally show --format
    json` has it: run.json's fields, dir, scalars (tag -> summary), files
    and output_tail (its last `tail` lines)."""
    with _Store(runs_dir) as store:
        lib = store.lib
        handle = _lookup(store, ref)
        try:
            record = json.loads(lib.tally_run_json(handle).decode("utf-8"))
            record["dir"] = lib.tally_run_dir(handle).decode("utf-8")
            record["scalars"] = json.loads((lib.tally_run_scalars_json(handle) or b"{}").decode("utf-8"))
            record["files"] = json.loads(_lib.take_string(lib.tally_run_files_json, handle, 0) or "[]")
            record["output_tail"] = _lib.take_string(lib.tally_run_output_tail, handle, int(tail))
            return record
        finally:
            store.lib.tally_run_free(handle)


def scalars(run_or_runs=1, tags=None, runs_dir=None):
    """Every scalar point of one run or several (references, or a DataFrame
    from runs()), in long format: run, tag, step, value, time (UTC)."""
    import pandas as pd

    if hasattr(run_or_runs, "columns") and "id" in getattr(run_or_runs, "columns", []):
        refs = list(run_or_runs["id"])
    elif isinstance(run_or_runs, (list, tuple)):
        refs = list(run_or_runs)
    else:
        refs = [run_or_runs]
    wanted = set(tags) if tags else None
    ids, tag_list, steps, values, times = [], [], [], [], []
    with _Store(runs_dir) as store:
        for ref in refs:
            handle = _lookup(store, ref)
            try:
                run_id = store.lib.tally_run_id(handle).decode("utf-8")

                def visit(ctx, tag, step, value, time_ms):
                    name = tag.decode("utf-8", "replace")
                    if wanted is None or name in wanted:
                        ids.append(run_id)
                        tag_list.append(name)
                        steps.append(step)
                        values.append(value)
                        times.append(time_ms)
                    return 0

                _lib.check(store.lib.tally_run_scalar_points(handle, _lib.SCALAR_VISITOR(visit), None))
            finally:
                store.lib.tally_run_free(handle)
    return pd.DataFrame({"run": ids, "tag": tag_list, "step": pd.Series(steps, dtype="int64"),
                         "value": pd.Series(values, dtype="float64"),
                         "time": pd.to_datetime(pd.Series(times, dtype="int64"), unit="ms", utc=True)})


def flags():
    """The flags of the run this script is, as a dict of typed values ({} outside a run)."""
    directory = os.environ.get("TALLY_RUN_DIR")
    if not directory:
        return {}
    try:
        with open(os.path.join(directory, ".tally", "run.json"), encoding="utf-8") as f:
            return dict(json.load(f).get("flags") or {})
    except (OSError, ValueError):
        return {}
