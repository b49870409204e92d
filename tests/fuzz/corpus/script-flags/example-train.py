"""Softmax regression on scikit-learn's digits, trained with NumPy.

A small but real training script for trying out tally:

    tally run train.py learning_rate=0.1 epochs=30

The hyperparameters below are the script's flags.  tally passes them on the
command line as ``--NAME VALUE``; run by hand, the defaults are used.  Each
epoch prints ``step:``, ``loss:``, ``val_loss:`` and ``val_acc:`` lines,
which tally records as scalars.
"""

import argparse
import time

import numpy as np
from sklearn.datasets import load_digits

learning_rate = 0.05
epochs = 20
batch_size = 64
l2 = 1e-4
seed = 1


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--learning_rate", type=float, default=learning_rate)
    parser.add_argument("--epochs", type=int, default=epochs)
    parser.add_argument("--batch_size", type=int, default=batch_size)
    parser.add_argument("--l2", type=float, default=l2)
    parser.add_argument("--seed", type=int, default=seed)
    args, _unknown = parser.parse_known_args()
    if args.epochs < 1 or args.batch_size < 1:
        parser.error("epochs and batch_size must be positive")
    return args


def load_data(rng, val_fraction=0.2):
    digits = load_digits()
    x = digits.data.astype(np.float64)
    y = digits.target.astype(np.int64)
    order = rng.permutation(len(y))
    n_val = int(len(y) * val_fraction)
    val_idx, train_idx = order[:n_val], order[n_val:]
    x_train, x_val = x[train_idx], x[val_idx]
    # Standardize with the training set's statistics only.
    mean = x_train.mean(axis=0)
    std = x_train.std(axis=0)
    std[std == 0] = 1.0
    x_train = (x_train - mean) / std
    x_val = (x_val - mean) / std
    return x_train, y[train_idx], x_val, y[val_idx], mean, std


def softmax(z):
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def evaluate(w, b, x, y, l2_strength):
    p = softmax(x @ w + b)
    nll = -np.log(p[np.arange(len(y)), y] + 1e-12).mean()
    loss = nll + 0.5 * l2_strength * np.sum(w * w)
    acc = (p.argmax(axis=1) == y).mean()
    return loss, acc


def main():
    args = parse_args()
    start = time.perf_counter()
    rng = np.random.default_rng(args.seed)
    x_train, y_train, x_val, y_val, mean, std = load_data(rng)
    n, d = x_train.shape
    k = int(y_train.max()) + 1

    w = rng.normal(0.0, 0.01, size=(d, k))
    b = np.zeros(k)
    onehot = np.eye(k)[y_train]
    history = []

    for epoch in range(1, args.epochs + 1):
        order = rng.permutation(n)
        for i in range(0, n, args.batch_size):
            idx = order[i:i + args.batch_size]
            xb, yb = x_train[idx], onehot[idx]
            p = softmax(xb @ w + b)
            grad_z = (p - yb) / len(idx)
            grad_w = xb.T @ grad_z + args.l2 * w
            grad_b = grad_z.sum(axis=0)
            w -= args.learning_rate * grad_w
            b -= args.learning_rate * grad_b

        loss, _ = evaluate(w, b, x_train, y_train, args.l2)
        val_loss, val_acc = evaluate(w, b, x_val, y_val, args.l2)
        history.append((epoch, loss, val_loss, val_acc))
        print(f"step: {epoch}")
        print(f"loss: {loss:.4f}")
        print(f"val_loss: {val_loss:.4f}")
        print(f"val_acc: {val_acc:.4f}")

    np.savez("model.npz", w=w, b=b, mean=mean, std=std)
    with open("metrics.csv", "w") as f:
        f.write("epoch,loss,val_loss,val_acc\n")
        for epoch, loss, val_loss, val_acc in history:
            f.write(f"{epoch},{loss:.6f},{val_loss:.6f},{val_acc:.6f}\n")

    print(f"Training finished in {time.perf_counter() - start:.1f} s")


if __name__ == "__main__":
    main()
