"""``python -m sklearn_bernoulli_mix``: the command line (see ``_cli``)."""

import sys

from ._cli import main, run_demo, run_fit_csv

__all__ = ["main", "run_demo", "run_fit_csv"]

if __name__ == "__main__":
    sys.exit(main(prog="python -m sklearn_bernoulli_mix"))
