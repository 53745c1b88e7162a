"""Out-of-core fitting: partial_fit batches and Dask, against an in-memory fit.

Usage::

    python benchmarks/out_of_core.py                  # 10 million rows (~1 GB)
    python benchmarks/out_of_core.py --rows 1000000   # a quick run

The data are ``--rows`` x ``--features`` binary rows (default 10,000,000 x
100) drawn from a mixture of ``--components`` Bernoulli components with
known parameters. The script writes them once, chunk by chunk, to a
**uint8 ``.npy`` file** (read as a ``numpy.memmap``; one byte per entry, so
1 GB for the default size) under ``--data-dir`` and reuses the file on later
runs with the same sizes and seed.

Three methods run, each in a fresh child process (the same interpreter
running this file with ``--child``), so that their peak memory is their own:

``in-memory``
    :meth:`BernoulliMixture.fit` on the first ``--subset`` rows (default
    1,000,000) loaded into memory as float32: the reference.
``partial_fit``
    :meth:`BernoulliMixture.partial_fit` on batches of ``--batch-rows`` rows
    (in a random order) for ``--epochs`` passes over all the rows. Each batch
    is read through its own memory map of the file, converted to float32 and
    unmapped, so the process holds one batch at a time (file pages mapped
    for the whole run would count in the resident set). The first batch is
    initialised with ``n_init=--partial-fit-n-init`` (3) k-means starts: one
    start on one batch falls, for some batches, into a poor local maximum
    (two true components merged) that stepwise EM does not leave; the extra
    starts cost a few seconds on the first batch only.
``dask``
    :meth:`BernoulliMixture.fit` on a Dask array of all the rows, in chunks
    of ``--chunk-rows`` rows read by the workers (each chunk task maps the
    file, copies its rows as float32 and unmaps it), on a
    ``dask.distributed.LocalCluster`` of 2 single-threaded worker processes.
    The initialisation runs k-means on a random sample of 10,000 rows.

Rows per second are rows processed per second of wall-clock time. ``fit``:
for ``partial_fit`` the rows streamed (reading included), for the EM fits
rows x iterations divided by the whole fit time (initialisation included:
k-means on all the rows in memory, on a sample of 10,000 rows with Dask).
``pass``: the EM fits are run again for ``--pass-iter`` iterations from
their fitted parameters, so this is the throughput of one EM iteration (a
full pass: read, E-step, statistics, M-step). Dask workers import the
package before the clock starts. Peak memory is the resident-set
high-water mark (``VmHWM`` in ``/proc/self/status``) of each process:
the child running the method (which for Dask holds the client and the
scheduler) and, for Dask, each worker (queried with ``client.run``); the
figure in brackets is the process's resident set before it read any data
(the interpreter and the imported libraries).
The held-out log-likelihood is computed by this parent process on 100,000
fresh rows from the same mixture.

The results are printed as a table and written to
``benchmarks/results/out_of_core-<rows>.json``.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
RESULTS = os.path.join(HERE, "results")


# --------------------------------------------------------------------------
# Data
# --------------------------------------------------------------------------


def true_parameters(n_features, n_components, seed):
    rng = np.random.RandomState(seed)
    means = np.where(
        rng.random_sample((n_components, n_features)) < 0.3,
        rng.uniform(0.6, 0.95, (n_components, n_features)),
        rng.uniform(0.02, 0.3, (n_components, n_features)),
    )
    weights = rng.dirichlet(np.full(n_components, 5.0))
    return weights, means


def simulate(n_rows, weights, means, rng):
    labels = rng.choice(weights.size, size=n_rows, p=weights)
    out = np.empty((n_rows, means.shape[1]), dtype=np.uint8)
    step = 50_000  # bounded temporaries
    for start in range(0, n_rows, step):
        stop = min(start + step, n_rows)
        draws = rng.random_sample((stop - start, means.shape[1]))
        out[start:stop] = draws < means[labels[start:stop]]
    return out


def data_path(args):
    name = f"bernoulli-{args.rows}x{args.features}-k{args.components}-s{args.seed}"
    return os.path.join(args.data_dir, name + ".npy")


def ensure_data(args):
    """Write the data chunk by chunk unless a complete file exists."""
    path = data_path(args)
    done = path + ".done"
    if os.path.exists(path) and os.path.exists(done):
        return path, 0.0
    os.makedirs(args.data_dir, exist_ok=True)
    weights, means = true_parameters(args.features, args.components, args.seed)
    t0 = time.perf_counter()
    out = np.lib.format.open_memmap(
        path, mode="w+", dtype=np.uint8, shape=(args.rows, args.features)
    )
    step = 500_000
    for i, start in enumerate(range(0, args.rows, step)):
        stop = min(start + step, args.rows)
        rng = np.random.RandomState([args.seed, i])
        out[start:stop] = simulate(stop - start, weights, means, rng)
        out.flush()
    del out
    open(done, "w").close()
    return path, time.perf_counter() - t0


def read_rows(path, start, stop):
    """Rows [start, stop) of the .npy file as float32, through a short-lived map."""
    mapped = np.load(path, mmap_mode="r")
    rows = np.array(mapped[start:stop], dtype=np.float32)
    del mapped
    return rows


# --------------------------------------------------------------------------
# Children: one method each
# --------------------------------------------------------------------------


def _proc_status_mb(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    return float("nan")  # pragma: no cover - not Linux


def peak_rss_mb():
    """High-water mark of this process's resident set (VmHWM), in MiB.

    Not ``ru_maxrss``: on Linux that also counts the resident set of the
    parent at the ``fork`` before ``exec``.
    """
    return _proc_status_mb("VmHWM")


def current_rss_mb():
    return _proc_status_mb("VmRSS")


def pass_throughput(est, X, n_rows, n_iter):
    """Rows per second of EM iterations alone, from the fitted parameters."""
    import warnings

    from sklearn.exceptions import ConvergenceWarning

    from sklearn_bernoulli_mix import BernoulliMixture

    again = BernoulliMixture(
        n_components=est.n_components,
        weights_init=est.weights_,
        means_init=est.means_,
        tol=0,
        max_iter=n_iter,
    )
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        again.fit(X)
    return n_rows * n_iter / (time.perf_counter() - t0)


def child_in_memory(args, path):
    from sklearn_bernoulli_mix import BernoulliMixture

    baseline = current_rss_mb()
    n_rows = min(args.subset, args.rows)
    X = read_rows(path, 0, n_rows)
    t0 = time.perf_counter()
    est = BernoulliMixture(
        n_components=args.components, max_iter=args.max_iter, random_state=0
    ).fit(X)
    seconds = time.perf_counter() - t0
    return {
        "rows": n_rows,
        "n_iter": est.n_iter_,
        "seconds": seconds,
        "rows_per_second": n_rows * est.n_iter_ / seconds,
        "pass_rows_per_second": pass_throughput(est, X, n_rows, args.pass_iter),
        "peak_mb": {"process": (peak_rss_mb(), baseline)},
        "weights": est.weights_.tolist(),
        "means": est.means_.tolist(),
    }


def child_partial_fit(args, path):
    from sklearn_bernoulli_mix import BernoulliMixture

    baseline = current_rss_mb()
    est = BernoulliMixture(
        n_components=args.components, n_init=args.partial_fit_n_init, random_state=0
    )
    starts = np.arange(0, args.rows, args.batch_rows)
    order = np.random.RandomState(1)
    t0 = time.perf_counter()
    for _ in range(args.epochs):
        for start in order.permutation(starts):
            est.partial_fit(read_rows(path, start, start + args.batch_rows))
    seconds = time.perf_counter() - t0
    rows = args.rows * args.epochs
    return {
        "rows": rows,
        "n_iter": est.n_iter_,
        "seconds": seconds,
        "rows_per_second": rows / seconds,
        "pass_rows_per_second": None,
        "peak_mb": {"process": (peak_rss_mb(), baseline)},
        "weights": est.weights_.tolist(),
        "means": est.means_.tolist(),
    }


def _worker_warm_up():
    import sklearn_bernoulli_mix  # noqa: F401

    return current_rss_mb()


def _worker_peak_rss_mb():
    return peak_rss_mb()


def child_dask(args, path):
    import logging

    import dask
    import dask.array as da
    from distributed import Client, LocalCluster

    from sklearn_bernoulli_mix import BernoulliMixture

    cluster = LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        dashboard_address=":0",
        silence_logs=logging.ERROR,
    )
    client = Client(cluster)
    baseline = current_rss_mb()
    try:
        worker_baselines = list(client.run(_worker_warm_up).values())
        chunks = [
            da.from_delayed(
                dask.delayed(read_rows)(
                    path, start, min(start + args.chunk_rows, args.rows)
                ),
                shape=(min(start + args.chunk_rows, args.rows) - start, args.features),
                dtype=np.float32,
            )
            for start in range(0, args.rows, args.chunk_rows)
        ]
        X = da.concatenate(chunks)
        t0 = time.perf_counter()
        est = BernoulliMixture(
            n_components=args.components, max_iter=args.max_iter, random_state=0
        ).fit(X)
        seconds = time.perf_counter() - t0
        pass_rows = pass_throughput(est, X, args.rows, args.pass_iter)
        workers = list(client.run(_worker_peak_rss_mb).values())
    finally:
        client.close()
        cluster.close()
    return {
        "rows": args.rows,
        "n_iter": est.n_iter_,
        "seconds": seconds,
        "rows_per_second": args.rows * est.n_iter_ / seconds,
        "pass_rows_per_second": pass_rows,
        "peak_mb": {
            "client+scheduler": (peak_rss_mb(), baseline),
            **{
                f"worker {i}": (mb, worker_baselines[i]) for i, mb in enumerate(workers)
            },
        },
        "weights": est.weights_.tolist(),
        "means": est.means_.tolist(),
    }


CHILDREN = {
    "in-memory": child_in_memory,
    "partial_fit": child_partial_fit,
    "dask": child_dask,
}


# --------------------------------------------------------------------------
# Parent
# --------------------------------------------------------------------------


def run_child(method, args, path):
    command = [sys.executable, os.path.abspath(__file__), "--child", method]
    for name in (
        "rows",
        "features",
        "components",
        "seed",
        "subset",
        "batch_rows",
        "chunk_rows",
        "epochs",
        "max_iter",
        "pass_iter",
        "partial_fit_n_init",
    ):
        command += [f"--{name.replace('_', '-')}", str(getattr(args, name))]
    command += ["--data-dir", args.data_dir]
    out = subprocess.run(command, capture_output=True, text=True, check=False)
    if out.returncode != 0:
        sys.stderr.write(out.stderr)
        raise SystemExit(f"{method} failed")
    return json.loads(out.stdout.strip().splitlines()[-1])


def held_out_score(result, X_test):
    from sklearn_bernoulli_mix import BernoulliMixture

    model = BernoulliMixture(n_components=len(result["weights"]))
    model.weights_ = np.asarray(result["weights"])
    model.means_ = np.asarray(result["means"])
    model.n_features_in_ = X_test.shape[1]
    model.converged_ = True
    return model.score(X_test)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--features", type=int, default=100)
    parser.add_argument("--components", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--subset", type=int, default=1_000_000)
    parser.add_argument("--batch-rows", type=int, default=100_000)
    parser.add_argument("--chunk-rows", type=int, default=250_000)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--max-iter", type=int, default=20)
    parser.add_argument("--pass-iter", type=int, default=3)
    parser.add_argument("--partial-fit-n-init", type=int, default=3)
    parser.add_argument(
        "--data-dir",
        default=os.path.join(tempfile.gettempdir(), "sklearn_bernoulli_mix_ooc"),
    )
    parser.add_argument(
        "--methods", nargs="+", default=list(CHILDREN), choices=list(CHILDREN)
    )
    parser.add_argument("--child", choices=list(CHILDREN), help=argparse.SUPPRESS)
    args = parser.parse_args()

    path = data_path(args)
    if args.child:
        result = CHILDREN[args.child](args, path)
        print(json.dumps(result))
        return

    path, write_seconds = ensure_data(args)
    size_mb = os.path.getsize(path) / 2**20
    print(
        f"data: {args.rows:,} x {args.features} uint8 in {path} ({size_mb:,.0f} MiB)"
        + (f", written in {write_seconds:.0f} s" if write_seconds else ", reused")
    )
    weights, means = true_parameters(args.features, args.components, args.seed)
    X_test = simulate(100_000, weights, means, np.random.RandomState(12345))
    truth = held_out_score({"weights": weights, "means": means}, X_test)

    results = {}
    for method in args.methods:
        print(f"running {method} ...", flush=True)
        results[method] = run_child(method, args, path)
        results[method]["held_out"] = held_out_score(results[method], X_test)

    print()
    print(
        f"{'method':<12} {'rows':>12} {'iter':>5} {'seconds':>8} "
        f"{'rows/s fit':>11} {'rows/s pass':>11} {'held-out ll':>12}  "
        "peak memory, MiB (before reading data)"
    )
    for method, r in results.items():
        peaks = ", ".join(
            f"{k} {peak:,.0f} ({base:,.0f})" for k, (peak, base) in r["peak_mb"].items()
        )
        per_pass = r["pass_rows_per_second"]
        per_pass = "-" if per_pass is None else f"{per_pass:,.0f}"
        print(
            f"{method:<12} {r['rows']:>12,} {r['n_iter']:>5} {r['seconds']:>8.1f} "
            f"{r['rows_per_second']:>11,.0f} {per_pass:>11} {r['held_out']:>12.4f}  "
            f"{peaks}"
        )
    print(
        f"{'true params':<12} {'':>12} {'':>5} {'':>8} {'':>11} {'':>11} {truth:>12.4f}"
    )

    os.makedirs(RESULTS, exist_ok=True)
    out = os.path.join(RESULTS, f"out_of_core-{args.rows}.json")
    summary = {
        "args": {k: v for k, v in vars(args).items() if k != "child"},
        "data_mib": size_mb,
        "true_held_out": truth,
        "results": {
            m: {k: v for k, v in r.items() if k not in ("weights", "means")}
            for m, r in results.items()
        },
    }
    with open(out, "w") as f:
        json.dump(summary, f, indent=2)
    print(f"\nwritten to {out}")


if __name__ == "__main__":
    main()
