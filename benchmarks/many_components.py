"""Benchmark FixedComponentMixture on a fine grid of many candidate components.

Usage::

    python benchmarks/many_components.py                 # 1,000 and 10,000 components
    python benchmarks/many_components.py --k 1000 --dense-max 1000

The problem: ``K`` Bernoulli components with success probabilities drawn
uniformly on (0, 1)^5, and 200 binary rows of 5 features, each drawn from a
component picked at random (so at most 32 distinct rows). The maximum
likelihood weights then have a small support, and the likelihood matrix has
rank at most 32: the situation of a "fine grid of candidate distributions".

Rows, for each ``K``:

- ``sqp``: ``FixedComponentMixture(probs).fit(X)`` as it is (mix-SQP with
  the Hessian kept as the factor ``B``, ``H = B'B``, and the standard errors
  on the support of the weights);
- ``sqp, dense Hessian``: the same fit with the factored path switched off,
  so mix-SQP forms and factors the ``K x K`` Hessian and the covariance is
  computed from the information of all ``K - 1`` free weights, as before the
  factored path existed; only for ``K <= --dense-max`` (at 10,000 components
  it had not finished after 15 minutes, with 6.5 GB resident);
- ``squarem`` and ``em``: the other solvers, up to ``--max-iter`` iterations.

Times are wall and CPU seconds of the whole ``fit`` (BLAS on one thread).
The table goes to stdout and the rows to
``benchmarks/results/many_components.json``.
"""

import os
import sys

for _var in (
    "OPENBLAS_NUM_THREADS",
    "OMP_NUM_THREADS",
    "MKL_NUM_THREADS",
    "BLIS_NUM_THREADS",
):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import contextlib  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402

import numpy as np  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

import sklearn_bernoulli_mix._solvers as solvers  # noqa: E402
from sklearn_bernoulli_mix import FixedComponentMixture  # noqa: E402


def grid_problem(n_components, seed, n_rows=200, n_features=5):
    rng = np.random.default_rng(seed)
    probs = rng.random((n_components, n_features))
    truth = probs[rng.integers(0, n_components, n_rows)]
    X = (rng.random((n_rows, n_features)) < truth).astype(float)
    return probs, X


@contextlib.contextmanager
def dense_hessian():
    """Switch the factored Hessian and the support-only covariance off."""
    saved = (
        solvers._FACTORED_MIN_COMPONENTS,
        solvers._FACTORED_MIN_ROWS_COMPONENTS,
        solvers.weights_covariance,
    )

    def full_covariance(lik, counts, weights):
        info, ref = solvers.weights_information(lik, counts, weights)
        return solvers.covariance_from_information(info, ref, lik.shape[1])

    solvers._FACTORED_MIN_COMPONENTS = 10**12
    solvers._FACTORED_MIN_ROWS_COMPONENTS = 10**12
    fixed = sys.modules["sklearn_bernoulli_mix._fixed"]
    fixed.weights_covariance = full_covariance
    try:
        yield
    finally:
        (
            solvers._FACTORED_MIN_COMPONENTS,
            solvers._FACTORED_MIN_ROWS_COMPONENTS,
            fixed.weights_covariance,
        ) = saved


def run(name, probs, X, **params):
    wall0, cpu0 = time.perf_counter(), time.process_time()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mix = FixedComponentMixture(probs, **params).fit(X)
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    row = {
        "solver": name,
        "n_components": int(probs.shape[0]),
        "wall_s": wall,
        "cpu_s": cpu,
        "iterations": int(mix.n_iter_),
        "converged": bool(mix.converged_),
        "gap": float(mix.gap_bound_),
        "objective": float(mix.lower_bound_),
        "nonzero": int(np.count_nonzero(mix.weights_)),
        "stderr_defined": int(np.count_nonzero(np.isfinite(mix.weights_stderr_))),
    }
    print(
        f"{row['n_components']:>7}  {name:<20} {wall:>9.2f} {cpu:>9.2f} "
        f"{row['iterations']:>6} {row['gap']:>9.1e} {row['objective']:>14.9f} "
        f"{row['nonzero']:>6}{'' if row['converged'] else '  (not converged)'}",
        flush=True,
    )
    return row


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--k", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--dense-max", type=int, default=1000)
    parser.add_argument("--max-iter", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--output", default=None)
    args = parser.parse_args(argv)
    print(f"python {platform.python_version()}, numpy {np.__version__}, BLAS 1 thread")
    print(
        f"{'K':>7}  {'solver':<20} {'wall s':>9} {'cpu s':>9} {'iter':>6} "
        f"{'gap':>9} {'objective':>14} {'nnz':>6}"
    )
    rows = []
    for k in args.k:
        probs, X = grid_problem(k, args.seed)
        rows.append(run("sqp", probs, X))
        if k <= args.dense_max:
            with dense_hessian():
                rows.append(run("sqp, dense Hessian", probs, X))
        for solver in ("squarem", "em"):
            rows.append(run(solver, probs, X, solver=solver, max_iter=args.max_iter))
    output = args.output or os.path.join(HERE, "results", "many_components.json")
    os.makedirs(os.path.dirname(output), exist_ok=True)
    with open(output, "w") as fh:
        json.dump({"rows": rows, "argv": sys.argv[1:]}, fh, indent=1)
    print(f"wrote {output}")


if __name__ == "__main__":
    main()
