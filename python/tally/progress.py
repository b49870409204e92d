"""A progress hook for any training loop: the loop's step becomes the step of
every tally.log() inside it.

    for step, batch in tally.progress(loader):
        loss = train(batch)
        tally.log(loss=loss)          # logged at `step`
"""
from . import _log


def progress(iterable, start=0):
    """Yield (step, item) for each item of `iterable`, steps counted from
    `start`; while the loop runs, tally.log() without a step logs at it."""
    outer = _log.current_step
    try:
        for step, item in enumerate(iterable, start):
            _log.current_step = step
            yield step, item
    finally:
        _log.current_step = outer
