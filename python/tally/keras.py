"""A Keras callback: every epoch's logs (loss, val_loss, metrics) become
scalars of the run, the epoch as their step.  Works with Keras 2 and 3 (it
only uses the callback hooks both document), and imports no Keras itself
unless Keras is there to subclass."""
import math

from ._log import log_dict

try:  # subclass the real Callback when Keras is installed, so model.fit() accepts it
    from keras.callbacks import Callback as _Base  # Keras 3, and Keras 2 standalone
except Exception:  # pragma: no cover - depends on what is installed
    try:
        from tensorflow.keras.callbacks import Callback as _Base
    except Exception:
        _Base = object


class TallyCallback(_Base):
    """model.fit(..., callbacks=[tally.keras.TallyCallback()]).

    `every_batch`: also log batch logs with the global batch number as step
    (under `batch/NAME`)."""

    def __init__(self, every_batch=False):
        if _Base is not object:
            super().__init__()
        self.every_batch = every_batch
        self._batches = 0

    if _Base is object:  # without Keras: what its Callback would give (Keras 3's `model` is read-only)
        def set_model(self, model):
            self.model = model

        def set_params(self, params):
            self.params = params

    def on_epoch_end(self, epoch, logs=None):
        numbers = {k: float(v) for k, v in (logs or {}).items() if _is_number(v)}
        if numbers:
            log_dict(numbers, step=epoch + 1)

    def on_train_batch_end(self, batch, logs=None):
        self._batches += 1
        if self.every_batch:
            numbers = {"batch/" + k: float(v) for k, v in (logs or {}).items() if _is_number(v)}
            if numbers:
                log_dict(numbers, step=self._batches)


def _is_number(v):
    try:
        return math.isfinite(float(v))
    except (TypeError, ValueError):
        return False
