import click


@click.command()
@click.option("--epochs", default=5, show_default=True, help="Passes over the data.")
@click.option("--lr", type=float, default=1e-3)
@click.option("--model-name", default="resnet18", help="torchvision model")
@click.option("--shuffle/--no-shuffle", default=True)
@click.option("--fp16", is_flag=True, help="half precision")
def train(epochs, lr, model_name, shuffle, fp16):
    click.echo(f"{epochs} {lr} {model_name} {shuffle} {fp16}")


if __name__ == "__main__":
    train()
