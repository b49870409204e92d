#!/usr/bin/env python3
"""Guild-style script: module-level literals are the flags."""
import os

#| description: Learning rate
#| min: 0
lr = 0.001
epochs: int = 20
batch_size = 32  # a comment
optimizer = 'adam'
dropout = .25
use_bn = True
checkpoint = None
big = 1_000_000
neg = -3

_hidden = 5                  # private: not a flag
layers = [64, 32]            # a list: not a flag
config = {"a": 1}            # a dict: not a flag
name = f"run-{lr}"           # an f-string: not a flag
path = os.path.join("a", "b")
shape = 28, 28               # a tuple: not a flag
doc = """multi
line"""                      # spans lines: not a flag
lr = 0.5                     # reassigned: the first wins
x = y = 3                    # chained: not a flag
total = (epochs *
         batch_size)


def train():
    local = 1
    return local


if __name__ == "__main__":
    verbose = True           # indented: not a flag
    train()
