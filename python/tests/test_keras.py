"""The Keras callback, driven by a stand-in for model.fit() that calls the
hooks Keras 2 and 3 document, in their order (no Keras installed here)."""
import json

import pytest

from conftest import tally, write


def test_keras_callback_logs_epoch_metrics(project):
    write("train.py", """
from tally.keras import TallyCallback

def fit(callbacks, epochs, batches):    # what keras.Model.fit calls, in order
    for cb in callbacks:
        cb.set_model(object()); cb.set_params({"epochs": epochs, "steps": batches})
    for epoch in range(epochs):
        for batch in range(batches):
            for cb in callbacks:
                cb.on_train_batch_end(batch, {"loss": 1.0 / (batch + 1)})
        for cb in callbacks:
            cb.on_epoch_end(epoch, {"loss": 0.5 / (epoch + 1), "val_loss": 0.6 / (epoch + 1),
                                    "accuracy": 0.8, "lr": "schedule"})

fit([TallyCallback(every_batch=True)], epochs=3, batches=2)
""")
    tally("run", "-q", "train.py")
    points = [(p["tag"], p["step"], p["value"]) for p in json.loads(tally("scalars", "1", "--format", "json").stdout)]
    assert [(s, v) for tag, s, v in points if tag == "loss"] == [(1, 0.5), (2, 0.25), (3, 0.5 / 3)]
    assert [v for tag, s, v in points if tag == "val_loss" and s == 3] == [pytest.approx(0.2)]
    assert ("accuracy", 1, 0.8) in points
    assert not any(tag == "lr" for tag, _, _ in points)
    assert [s for tag, s, _ in points if tag == "batch/loss"] == [1, 2, 3, 4, 5, 6]
