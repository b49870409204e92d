"""Train a small CNN (argparse style, as PyTorch examples do)."""
import argparse

import torch  # noqa: F401

BATCH = 64


def main():
    parser = argparse.ArgumentParser(description="PyTorch MNIST Example")
    parser.add_argument("--batch-size", type=int, default=BATCH, metavar="N",
                        help="input batch size for training (default: %(default)s)")
    parser.add_argument(
        "--epochs",
        type=int,
        default=14,
        help="number of epochs to train",
    )
    parser.add_argument("--lr", type=float, default=1.0, help="learning rate")
    parser.add_argument("--gamma", type=float, default=0.7)
    parser.add_argument("--no-cuda", action="store_true", default=False, help="disables CUDA training")
    parser.add_argument("--dry-run", action="store_true")
    parser.add_argument("--optimizer", choices=["sgd", "adam"], default="adam")
    parser.add_argument("--amp", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("data_dir", help="positional: not a flag")
    args = parser.parse_args()
    print(args)


if __name__ == "__main__":
    main()
