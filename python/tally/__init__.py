"""tally for Python: log scalars from a training script, read runs as pandas
data frames, hook into Keras.

In a script run by `tally run train.py`:

    import tally
    for epoch in range(10):
        tally.log(loss=loss, val_loss=val_loss, step=epoch)

In a notebook:

    df = tally.runs(where="val_acc > 0.9", sort="-val_acc")
    points = tally.scalars(df.head(3), tags=["val_loss"])
"""
from ._lib import TallyError
from ._log import is_active, log, log_dict, run_dir, start
from ._runs import flags, run, runs, scalars
from .progress import progress

__all__ = ["TallyError", "flags", "is_active", "log", "log_dict", "progress", "run", "run_dir", "runs",
           "scalars", "start"]
__version__ = "0.1.0"
