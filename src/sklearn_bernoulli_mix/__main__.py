"""Command line: the marble-factory experiment, and fitting a CSV of 0/1 columns."""

import argparse
import csv
import sys
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from . import FixedComponentMixture, NonIdentifiableWarning, __version__


def _simulate(n_samples, proportions, p_red, rng):
    factory = rng.choice(len(proportions), size=n_samples, p=proportions)
    red = (rng.random(n_samples) < p_red[factory]).astype(np.int64)
    return red.reshape(-1, 1), factory


def run_demo(
    n_samples=1000, proportions=(0.6, 0.4), p_red=(0.8, 0.3), seed=0, out=None
):
    """Reproduce the marble-factory experiment with FixedComponentMixture."""
    out = sys.stdout if out is None else out
    proportions = np.asarray(proportions, dtype=float)
    p_red = np.asarray(p_red, dtype=float)
    if proportions.shape != p_red.shape:
        raise SystemExit(
            f"--proportions has {proportions.size} values but --p-red has "
            f"{p_red.size}: give one of each per factory."
        )
    if np.any(proportions < 0) or not np.isclose(proportions.sum(), 1):
        raise SystemExit("--proportions must be non-negative and sum to 1.")
    if np.any((p_red < 0) | (p_red > 1)):
        raise SystemExit("--p-red values must be probabilities in [0, 1].")
    if n_samples < 1:
        raise SystemExit("--n-samples must be at least 1.")
    n_factories = proportions.size
    rng = np.random.default_rng(seed)
    X, _ = _simulate(n_samples, proportions, p_red, rng)

    def p(text):
        print(text, file=out)

    p("Ground truth")
    for k in range(n_factories):
        p(
            f"  P(c = Factory {k + 1}) = {proportions[k]:.2f}   "
            f"P(x = red | c = Factory {k + 1}) = {p_red[k]:.2f}"
        )
    n_red = int(X.sum())
    p(
        f"Generated {n_samples} marbles (seed {seed}): red {n_red}, blue "
        f"{n_samples - n_red}, observed P(x = red) = {n_red / n_samples:.4f}"
    )

    components = p_red.reshape(-1, 1)
    p("EM, starting from equal proportions:")
    for max_iter in (1, 2, 5, 10, 20, 50):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            warnings.simplefilter("ignore", NonIdentifiableWarning)
            path = FixedComponentMixture(
                components, solver="em", max_iter=max_iter
            ).fit(X)
        shown = ", ".join(f"{w:.4f}" for w in path.weights_)
        p(
            f"  after {max_iter:>3} iterations: P(c) = [{shown}]   "
            f"certified gap <= {path.gap_bound_:.2e}"
        )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NonIdentifiableWarning)
        mix = FixedComponentMixture(
            components, solver="em", max_iter=100_000, tol=1e-12
        ).fit(X)
    p(
        f"Converged after {mix.n_iter_} iterations (certified gap "
        f"{mix.gap_bound_:.1e} per marble); mean log-likelihood {mix.lower_bound_:.6f}"
    )
    p("Estimate (standard error):")
    for k in range(n_factories):
        p(
            f"  P(c = Factory {k + 1}) = {mix.weights_[k]:.4f} "
            f"({mix.weights_stderr_[k]:.4f})"
        )
    if np.isnan(mix.weights_stderr_).any():
        p(
            "  (not identifiable: one colour only reveals the overall red rate, which "
            "many mixtures of these factories share; the estimate is one of them and "
            "has no standard error)"
        )
    if n_factories == 2 and p_red[0] != p_red[1]:
        r = n_red / n_samples
        closed = np.clip((r - p_red[1]) / (p_red[0] - p_red[1]), 0, 1)
        se = np.sqrt(r * (1 - r) / n_samples) / abs(p_red[0] - p_red[1])
        p(
            f"  closed form: clip((r - {p_red[1]}) / {p_red[0] - p_red[1]:.2f}, 0, 1) = "
            f"{closed:.4f}, standard error {se:.4f}"
        )
    p("Posterior P(factory | colour):")
    for colour, x in (("red", 1), ("blue", 0)):
        likelihood = p_red if x else 1 - p_red
        if not np.any(likelihood * mix.weights_ > 0):
            p(
                f"  {colour:>4}: impossible (no factory in the mix makes {colour} marbles)"
            )
            continue
        row = mix.predict_proba([[x]])[0]
        shown = ", ".join(f"Factory {k + 1}: {v:.4f}" for k, v in enumerate(row))
        p(f"  {colour:>4}: {shown}")
    return mix


def _read_matrix(path, what):
    try:
        handle = open(path, newline="")
    except OSError as exc:
        raise SystemExit(f"cannot read {what} file {path!r}: {exc.strerror}") from None
    with handle:
        rows = [
            row for row in csv.reader(handle) if row and any(c.strip() for c in row)
        ]
    if not rows:
        raise SystemExit(f"{what} file {path!r} is empty.")
    header = None
    try:
        [float(v) for v in rows[0]]
    except ValueError:
        header, rows = rows[0], rows[1:]
    try:
        values = np.array([[float(v) for v in row] for row in rows])
    except ValueError as exc:
        raise SystemExit(f"{what} file {path!r}: {exc}") from None
    if values.ndim != 2:
        raise SystemExit(
            f"{what} file {path!r}: every row needs the same number of columns."
        )
    return values, header


def run_fit_csv(data, components, output=None, tol=1e-10, max_iter=100_000, out=None):
    """Fit the weights of known Bernoulli components to a CSV of 0/1 columns."""
    out = sys.stdout if out is None else out
    X, header = _read_matrix(data, "data")
    probs, _ = _read_matrix(components, "components")
    try:
        mix = FixedComponentMixture(probs, tol=tol, max_iter=max_iter).fit(X)
        posterior = mix.predict_proba(X)
    except ValueError as exc:
        raise SystemExit(f"error: {exc}") from None
    print("component,weight,stderr", file=out)
    for k, (w, se) in enumerate(zip(mix.weights_, mix.weights_stderr_)):
        print(f"{k},{w:.10g},{se:.10g}", file=out)
    if output:
        with open(output, "w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow([f"p_component_{k}" for k in range(mix.n_components_)])
            writer.writerows([[f"{v:.10g}" for v in row] for row in posterior])
        print(f"posteriors of {X.shape[0]} rows written to {output}", file=out)
    return mix


def main(argv=None):
    """Entry point of ``python -m sklearn_bernoulli_mix``."""
    parser = argparse.ArgumentParser(
        prog="python -m sklearn_bernoulli_mix",
        description="Mixtures of Bernoulli and other known distributions.",
    )
    parser.add_argument("--version", action="version", version=__version__)
    sub = parser.add_subparsers(dest="command")
    demo = sub.add_parser("demo", help="the marble-factory experiment (the default)")
    demo.add_argument("--n-samples", type=int, default=1000)
    demo.add_argument(
        "--proportions",
        type=float,
        nargs="+",
        default=[0.6, 0.4],
        help="true P(c = factory k), one per factory",
    )
    demo.add_argument(
        "--p-red",
        type=float,
        nargs="+",
        default=[0.8, 0.3],
        help="P(red | factory k), one per factory",
    )
    demo.add_argument("--seed", type=int, default=0)
    fit = sub.add_parser(
        "fit-csv", help="learn the weights of known Bernoulli components from a CSV"
    )
    fit.add_argument("data", help="CSV of 0/1 columns, one row per sample")
    fit.add_argument(
        "components", help="CSV of P(x_j = 1 | component k), one row per component"
    )
    fit.add_argument("--output", help="where to write the per-row posteriors (CSV)")
    args = parser.parse_args(argv)
    if args.command == "fit-csv":
        run_fit_csv(args.data, args.components, output=args.output)
    elif args.command == "demo":
        run_demo(args.n_samples, args.proportions, args.p_red, args.seed)
    else:
        run_demo()
    return 0


if __name__ == "__main__":
    sys.exit(main())
