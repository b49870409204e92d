import click
@click.command()
@click.option("--epochs", default=10, help="n")
@click.option("--shuffle/--no-shuffle", default=True)
def main(epochs, shuffle): pass
