"""`python -m bakery.cli`: the `bakery` console script."""

from bakery.cli.main import run

if __name__ == "__main__":
    run()
