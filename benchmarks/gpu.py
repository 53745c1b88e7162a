"""Seconds per EM iteration of BernoulliMixture on a CUDA GPU (Array API path).

Usage::

    SCIPY_ARRAY_API=1 python benchmarks/gpu.py                 # 10M x 1000, K = 50
    SCIPY_ARRAY_API=1 python benchmarks/gpu.py --rows 1000000  # smaller
    SCIPY_ARRAY_API=1 python benchmarks/gpu.py --cpu-rows 200000

Needs PyTorch with CUDA; without a CUDA device it says so and exits with
status 0. Binary data (10,000,000 x 1,000 by default, drawn from a mixture
of K = 50 Bernoulli components) is generated on the GPU in float32 (40 GB;
an H100/H200 holds it). Three methods fit from the same starting parameters:

- ``BernoulliMixture`` on the torch tensor under
  ``sklearn.config_context(array_api_dispatch=True)`` (every EM iteration on
  the GPU);
- ``BernoulliMixture`` on the CPU (NumPy, all cores), on the first
  ``--cpu-rows`` rows only (the time per iteration is linear in the rows;
  it is scaled up to the full size and marked so);
- pomegranate's ``GeneralMixtureModel`` of ``Bernoulli`` on the same GPU
  tensor, when pomegranate is installed.

Seconds per iteration are ``(t_long - t_short) / (long - short)`` for fits
of ``--long`` and ``--short`` iterations, so validation and initialisation
cancel out (as in ``benchmarks/run.py``); the final mean log-likelihood of
each fit is printed to show that the methods did the same work.
"""

import argparse
import os
import sys
import time

os.environ.setdefault("SCIPY_ARRAY_API", "1")

import numpy as np  # noqa: E402


def _cuda():
    try:
        import torch
    except ImportError:
        return None
    return torch if torch.cuda.is_available() else None


def _data(torch, n, d, k, seed):
    """Binary rows of a K-component Bernoulli mixture, generated on the GPU."""
    gen = torch.Generator(device="cuda").manual_seed(seed)
    means = 0.05 + 0.9 * torch.rand((k, d), generator=gen, device="cuda")
    labels = torch.randint(0, k, (n,), generator=gen, device="cuda")
    X = torch.empty((n, d), device="cuda", dtype=torch.float32)
    step = 1 << 18
    for start in range(0, n, step):
        rows = slice(start, min(start + step, n))
        u = torch.rand((rows.stop - rows.start, d), generator=gen, device="cuda")
        X[rows] = (u < means[labels[rows]]).float()
    return X


def _start(k, d, seed):
    rng = np.random.RandomState(seed)
    return np.full(k, 1.0 / k), rng.uniform(0.25, 0.75, size=(k, d))


def _ours(X, weights, means, n_iter, sync):
    import sklearn

    from sklearn_bernoulli_mix import BernoulliMixture

    model = BernoulliMixture(
        len(weights),
        weights_init=weights,
        means_init=means,
        max_iter=n_iter,
        tol=0,
        alpha=0,
        binarize=None,
    )
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if isinstance(X, np.ndarray):
            t0 = time.perf_counter()
            model.fit(X)
            return time.perf_counter() - t0, model.lower_bound_
        with sklearn.config_context(array_api_dispatch=True):
            sync()
            t0 = time.perf_counter()
            model.fit(X)
            sync()
            return time.perf_counter() - t0, model.lower_bound_


def _pomegranate(torch, X, weights, means, n_iter, sync):
    from pomegranate.distributions import Bernoulli
    from pomegranate.gmm import GeneralMixtureModel

    dists = [
        Bernoulli(probs=torch.tensor(row, dtype=torch.float32, device="cuda"))
        for row in means
    ]
    model = GeneralMixtureModel(
        dists,
        priors=torch.tensor(weights, dtype=torch.float32, device="cuda"),
        max_iter=n_iter,
        tol=-np.inf,
    ).cuda()
    sync()
    t0 = time.perf_counter()
    model.fit(X)
    sync()
    elapsed = time.perf_counter() - t0
    log_lik = float(model.log_probability(X[: 1 << 16]).mean())
    return elapsed, log_lik


def _per_iteration(fit, long, short):
    t_long, ll = fit(long)
    t_short, _ = fit(short)
    return (t_long - t_short) / (long - short), ll


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--features", type=int, default=1000)
    parser.add_argument("--components", type=int, default=50)
    parser.add_argument("--cpu-rows", type=int, default=200_000)
    parser.add_argument("--long", type=int, default=6)
    parser.add_argument("--short", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    torch = _cuda()
    if torch is None:
        print(
            "No CUDA device (or no PyTorch with CUDA): the GPU benchmark needs "
            "one and did not run."
        )
        return 0
    sync = torch.cuda.synchronize
    n, d, k = args.rows, args.features, args.components
    print(f"GPU: {torch.cuda.get_device_name()}; X {n} x {d} binary float32, K = {k}")
    X = _data(torch, n, d, k, args.seed)
    weights, means = _start(k, d, args.seed)
    rows = []

    sec, ll = _per_iteration(
        lambda it: _ours(X, weights, means, it, sync), args.long, args.short
    )
    rows.append(("BernoulliMixture, torch CUDA (Array API)", sec, ll, ""))

    n_cpu = min(n, args.cpu_rows)
    X_cpu = X[:n_cpu].cpu().numpy()
    sec, ll = _per_iteration(
        lambda it: _ours(X_cpu, weights, means, it, sync), args.long, args.short
    )
    rows.append(
        (
            "BernoulliMixture, CPU (NumPy)",
            sec * n / n_cpu,
            ll,
            f"measured on {n_cpu} rows, scaled x{n / n_cpu:g}",
        )
    )

    try:
        import pomegranate  # noqa: F401
    except ImportError:
        rows.append(
            ("pomegranate, torch CUDA", float("nan"), float("nan"), "not installed")
        )
    else:
        try:
            sec, ll = _per_iteration(
                lambda it: _pomegranate(torch, X, weights, means, it, sync),
                args.long,
                args.short,
            )
            rows.append(("pomegranate, torch CUDA", sec, ll, "log-lik on 65536 rows"))
        except Exception as exc:  # report, do not hide, a failing peer
            rows.append(
                ("pomegranate, torch CUDA", float("nan"), float("nan"), repr(exc)[:80])
            )

    print(f"\n{'method':44s} {'s / iteration':>14s} {'mean log-lik':>14s}  note")
    for name, sec, ll, note in rows:
        print(f"{name:44s} {sec:14.4f} {ll:14.4f}  {note}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
