"""Benchmark the mixing-weight solvers on the normal-means problem of mix-SQP.

Usage::

    python benchmarks/solvers.py                    # n = 20,000 and 100,000; m = 20, 50, 200
    python benchmarks/solvers.py --quick            # small smoke run, under a minute
    python benchmarks/solvers.py --n 20000 --m 50 --em-budget 120 --no-r

The problem is the one of Kim, Carbonetto, Stephens & Anitescu (2020): ``z``
is drawn 50% from N(0, 1), 20% from t(4) and 30% from t(6); the grid of
standard deviations is ``[0, logspace(log10(0.1), log10(2 sqrt(max(z^2 - 1))),
m - 1)]`` and ``L_ij = N(z_i; 0, 1 + sd_j^2)``. Each solver of
``sklearn_bernoulli_mix._solvers`` is looped here from uniform weights with
the estimator's stopping rule, until the certified gap ``log(max_k g_k)`` of
the incoming point is at most ``--tol`` (1e-8 per sample):

- ``em``: ``em_step``; it rarely gets there, so it runs for a CPU-time budget
  of ``max(--em-budget, 101 x the sqp time)`` and the gap it reached is shown:
  when it has not converged by then, sqp was at least 100 times faster;
- ``squarem``: ``squarem_step``, with a budget of ``--squarem-budget``;
- ``sqp``: ``sqp_step`` as it is;
- ``sqp+lowrank``: ``sqp_step`` with the Hessian from ``low_rank_factor``
  (whose time is included);
- ``sqp+em10``: 10 ``em_step`` iterations first, as the authors' R package
  does (their time is included);
- ``R mixsqp``: the authors' R package (Debian's r-cran-mixsqp) on the same
  matrix, called through Rscript; only the ``mixsqp()`` call is timed, inside
  R. Its own stopping rule applies (a dual residual of 1e-8); with its
  defaults it solves a perturbed problem (``log(L x + 1e-8)`` and a rank-1e-6
  SVD of ``L``), so its answer may not carry the 1e-8 certificate, computed
  here with the exact matrix;
- ``R mixsqp exact``: the same with ``eps = 0`` and ``tol.svd = 0``, the
  exact problem. Both R rows are skipped when Rscript or the package is
  missing.

Times are CPU seconds of the process (``time.process_time``; R's user +
system time) and wall seconds; BLAS runs on one thread, so CPU time is
robust to other load on the machine and the wall time is not. The final
objective is the mean log-likelihood per sample of the normalised weights.
The table goes to stdout and everything to ``benchmarks/results/solvers.json``
(``solvers-quick.json`` with ``--quick``).
"""

import os
import sys

# One BLAS thread, set before numpy and scipy load their BLAS libraries (the
# wheels ship two OpenBLAS copies, and threadpoolctl only limits the ones that
# are already loaded).
for _var in (
    "OPENBLAS_NUM_THREADS",
    "OMP_NUM_THREADS",
    "MKL_NUM_THREADS",
    "BLIS_NUM_THREADS",
):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import datetime  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import shutil  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
import scipy.linalg  # noqa: E402, F401  (loads scipy's BLAS before the limit)
from scipy.stats import norm  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

from sklearn_bernoulli_mix._solvers import (  # noqa: E402
    em_step,
    gap_bound,
    low_rank_factor,
    sqp_step,
    squarem_step,
)

try:
    from threadpoolctl import threadpool_info, threadpool_limits

    threadpool_limits(1)
    BLAS_NOTE = "BLAS threads: 1 (environment variables and threadpoolctl: " + (
        ", ".join(
            f"{i['internal_api']} {os.path.basename(i['filepath'])} = "
            f"{i['num_threads']}"
            for i in threadpool_info()
        )
        + ")"
    )
except ImportError:
    BLAS_NOTE = "BLAS threads: 1 (environment variables; threadpoolctl not installed)"


def normal_means(n, m, seed):
    """The scaled likelihood matrix, row frequencies and log-likelihood offset."""
    rng = np.random.default_rng(seed)
    kind = rng.choice(3, size=n, p=[0.5, 0.2, 0.3])
    z = np.where(
        kind == 0,
        rng.standard_normal(n),
        np.where(kind == 1, rng.standard_t(4, n), rng.standard_t(6, n)),
    )
    top = 2 * np.sqrt(max(np.max(z**2 - 1), 1e-2))
    sd = np.r_[0.0, np.logspace(np.log10(0.1), np.log10(top), m - 1)]
    log_lik = norm.logpdf(z[:, None], 0.0, np.sqrt(1.0 + sd**2))
    row_max = log_lik.max(axis=1)
    lik = np.exp(log_lik - row_max[:, None])
    freq = np.full(n, 1.0 / n)
    return lik, freq, float(freq @ row_max)


def loop(step, lik, freq, x, tol, budget, max_iter=10**7):
    """Iterate ``step`` until the certified gap is <= tol or the budget is spent."""
    cpu0, wall0 = time.process_time(), time.perf_counter()
    gap = np.inf
    n_iter = 0
    while n_iter < max_iter:
        x, _, gap = step(lik, freq, x)
        n_iter += 1
        if gap <= tol or time.process_time() - cpu0 > budget:
            break
    return x, n_iter, gap, time.process_time() - cpu0, time.perf_counter() - wall0


def result(name, x, n_iter, cpu, wall, lik, freq, offset, tol, gap=None, extra=None):
    """One row of the table, with the objective and certified gap of ``x``.

    ``gap`` is the certificate on which a loop stopped, that of its last
    incoming point: the returned weights have at least its log-likelihood,
    so their true gap is below it too (their own ``log(max g)`` may be a
    little larger, and is recorded as ``gap_of_returned``). Without it (R's
    answer) the certificate of ``x`` itself is used.
    """
    w = np.clip(np.asarray(x, dtype=float), 0.0, None)
    w /= w.sum()
    own_gap = gap_bound(lik, freq, w)
    gap = own_gap if gap is None else gap
    row = {
        "solver": name,
        "iterations": int(n_iter),
        "cpu_s": float(cpu),
        "wall_s": float(wall),
        "gap": float(gap),
        "gap_of_returned": float(own_gap),
        "converged": bool(gap <= tol),
        "objective": float(freq @ np.log(lik @ w)) + offset,
        "nonzero": int(np.sum(w > 0)),
    }
    row.update(extra or {})
    return row


R_SCRIPT = r"""
args <- commandArgs(trailingOnly = TRUE)
n <- as.integer(args[2]); m <- as.integer(args[3])
suppressPackageStartupMessages(library(mixsqp))
L <- matrix(readBin(args[1], "double", n * m), n, m)
invisible(mixsqp(L[1:min(n, 100), ], control = list(verbose = FALSE)))  # warm-up
configs <- list(default = list(), exact = list(eps = 0, tol.svd = 0))
for (name in names(configs)) {
  control <- c(configs[[name]], list(verbose = FALSE))
  t0 <- proc.time()
  fit <- mixsqp(L, x0 = rep(1 / m, m), control = control)
  t1 <- proc.time() - t0
  cat(sprintf("%.17g", fit$x), sep = "\n", file = paste0(args[4], ".", name))
  cat(sprintf("cpu %.6f\nwall %.6f\niterations %d\nstatus %s\nblas %s\nversion %s\n",
              t1[["user.self"]] + t1[["sys.self"]], t1[["elapsed"]],
              nrow(fit$progress), gsub(" ", "_", fit$status),
              basename(extSoftVersion()[["BLAS"]]),
              as.character(packageVersion("mixsqp"))),
      file = paste0(args[5], ".", name))
}
"""
R_CONFIGS = {
    # The package's defaults: log(L x + 1e-8) and a rank-1e-6 SVD of L, so
    # its answer need not carry a certificate of 1e-8 for the exact problem.
    "default": "R mixsqp",
    # The exact problem (eps = 0, no low-rank approximation).
    "exact": "R mixsqp exact",
}


def r_available():
    """Why R's mixsqp cannot run, or None when it can."""
    if shutil.which("Rscript") is None:
        return "Rscript not found (Debian: apt-get install r-cran-mixsqp)"
    probe = subprocess.run(
        ["Rscript", "-e", "library(mixsqp)"], capture_output=True, text=True
    )
    if probe.returncode:
        return "the R package mixsqp is not installed (r-cran-mixsqp)"
    return None


def run_r(lik, freq, offset, tol):
    """Time R's mixsqp on ``lik``, with its defaults and exactly; table rows."""
    n, m = lik.shape
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        paths = [os.path.join(tmp, f) for f in ("L.bin", "x", "info", "r.R")]
        # Column-major, as R stores matrices.
        lik.T.tofile(paths[0])
        with open(paths[3], "w") as fh:
            fh.write(R_SCRIPT)
        env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")
        subprocess.run(
            ["Rscript", paths[3], paths[0], str(n), str(m), paths[1], paths[2]],
            check=True,
            env=env,
            capture_output=True,
        )
        for config, name in R_CONFIGS.items():
            x = np.loadtxt(f"{paths[1]}.{config}")
            with open(f"{paths[2]}.{config}") as fh:
                info = dict(line.split(" ", 1) for line in fh.read().splitlines())
            extra = {
                "r_control": config,
                "r_status": info["status"].replace("_", " "),
                "r_blas": info["blas"],
                "r_mixsqp_version": info["version"],
            }
            rows.append(
                result(
                    name,
                    x,
                    int(info["iterations"]),
                    float(info["cpu"]),
                    float(info["wall"]),
                    lik,
                    freq,
                    offset,
                    tol,
                    extra=extra,
                )
            )
    return rows


def bench_size(n, m, args, r_reason):
    lik, freq, offset = normal_means(n, m, args.seed)
    uniform = np.full(m, 1.0 / m)
    tol = args.tol
    rows = []

    def add(name, x, n_iter, gap, cpu, wall, extra=None):
        rows.append(
            result(name, x, n_iter, cpu, wall, lik, freq, offset, tol, gap, extra)
        )
        print(format_row(n, m, rows[-1]), flush=True)

    # Warm up BLAS and LAPACK paths outside the timings.
    sqp_step(lik[:200], np.full(200, 1 / 200), uniform)

    x, it, gap, cpu, wall = loop(sqp_step, lik, freq, uniform, tol, args.sqp_budget)
    add("sqp", x, it, gap, cpu, wall)
    sqp_cpu = cpu

    cpu0, wall0 = time.process_time(), time.perf_counter()
    factor = low_rank_factor(lik)
    f_cpu, f_wall = time.process_time() - cpu0, time.perf_counter() - wall0

    def low_rank(lik_, freq_, x_):
        return sqp_step(lik_, freq_, x_, factor=factor)

    x, it, gap, cpu, wall = loop(low_rank, lik, freq, uniform, tol, args.sqp_budget)
    add(
        "sqp+lowrank",
        x,
        it,
        gap,
        cpu + f_cpu,
        wall + f_wall,
        {"rank": int(factor[0].size), "factor_cpu_s": f_cpu},
    )

    cpu0, wall0 = time.process_time(), time.perf_counter()
    x = uniform
    for _ in range(10):
        x = em_step(lik, freq, x)[0]
    e_cpu, e_wall = time.process_time() - cpu0, time.perf_counter() - wall0
    x, it, gap, cpu, wall = loop(sqp_step, lik, freq, x, tol, args.sqp_budget)
    add("sqp+em10", x, it + 10, gap, cpu + e_cpu, wall + e_wall, {"em_iterations": 10})

    x, it, gap, cpu, wall = loop(
        squarem_step, lik, freq, uniform, tol, args.squarem_budget
    )
    add("squarem", x, it, gap, cpu, wall, {"budget_cpu_s": args.squarem_budget})

    em_budget = max(args.em_budget, 101 * sqp_cpu)
    if args.em_max_budget is not None:
        em_budget = min(em_budget, args.em_max_budget)
    x, it, gap, cpu, wall = loop(em_step, lik, freq, uniform, tol, em_budget)
    add("em", x, it, gap, cpu, wall, {"budget_cpu_s": em_budget})

    if r_reason is None:
        try:
            for row in run_r(lik, freq, offset, tol):
                rows.append(row)
                print(format_row(n, m, row), flush=True)
        except (subprocess.CalledProcessError, OSError, ValueError, KeyError) as exc:
            print(f"{n:>7} {m:>4}  R mixsqp failed: {exc}", flush=True)
    for row in rows:
        row.update(n=n, m=m)
    return rows


HEADER = (
    f"{'n':>7} {'m':>4}  {'solver':<15} {'iter':>7} {'cpu s':>9} {'wall s':>9} "
    f"{'gap':>9} {'objective':>19} {'nnz':>4}"
)


def format_row(n, m, row):
    flag = "" if row["converged"] else "  (not converged: budget spent)"
    if row["solver"].startswith("R mixsqp") and not row["converged"]:
        flag = f"  (R stopped: {row['r_status']}; gap above tol)"
    return (
        f"{n:>7} {m:>4}  {row['solver']:<15} {row['iterations']:>7} "
        f"{row['cpu_s']:>9.3f} {row['wall_s']:>9.3f} {row['gap']:>9.1e} "
        f"{row['objective']:>19.12f} {row['nonzero']:>4}{flag}"
    )


def targets(all_rows, sizes):
    """The issue's targets: sqp >= 100x faster than em, faster than R mixsqp.

    "sqp" is the plain ``sqp_step`` loop from uniform weights. Against EM the
    ratio is a lower bound when EM did not converge within its budget. It is
    compared with both R rows; R's default run stops before the 1e-8
    certificate, so beating it is the stricter test.
    """
    lines, verdicts = [], []
    for n, m in sizes:
        by = {r["solver"]: r for r in all_rows if r["n"] == n and r["m"] == m}
        sqp = by["sqp"]
        best = min(
            (by[k] for k in ("sqp", "sqp+lowrank", "sqp+em10")),
            key=lambda r: r["cpu_s"],
        )
        for clock in ("cpu_s", "wall_s"):
            em = by["em"]
            ratio = em[clock] / sqp[clock]
            ok = ratio >= 100 and sqp["converged"]
            verdicts.append(ok)
            em_state = (
                "converged" if em["converged"] else f"stopped at gap {em['gap']:.1e}"
            )
            lines.append(
                f"n={n} m={m} [{clock[:-2]}] sqp vs em: "
                f"{'' if em['converged'] else '>='}{ratio:.0f}x "
                f"(em {em_state}) -> {'met' if ok else 'MISSED'}"
            )
            for r_name in R_CONFIGS.values():
                if r_name not in by:
                    continue
                r = by[r_name]
                pairs = [("sqp", sqp)]
                if best is not sqp:
                    pairs.append((best["solver"], best))
                for label, row in pairs:
                    ratio = r[clock] / row[clock]
                    ok = ratio > 1 and row["converged"]
                    if label == "sqp":
                        verdicts.append(ok)
                    lines.append(
                        f"n={n} m={m} [{clock[:-2]}] {label} vs {r_name}: "
                        f"{ratio:.2f}x faster -> {'met' if ok else 'MISSED'}"
                        + (
                            ""
                            if label == "sqp"
                            else " (fastest sqp variant, for reference)"
                        )
                    )
    return lines, all(verdicts)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, nargs="+", default=[20000, 100000])
    parser.add_argument("--m", type=int, nargs="+", default=[20, 50, 200])
    parser.add_argument("--tol", type=float, default=1e-8)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--em-budget",
        type=float,
        default=30.0,
        help="minimum CPU seconds for EM (raised to 101 x the sqp time)",
    )
    parser.add_argument(
        "--em-max-budget",
        type=float,
        default=None,
        help="cap on the EM budget (then the 100x target may stay unresolved)",
    )
    parser.add_argument("--squarem-budget", type=float, default=60.0)
    parser.add_argument("--sqp-budget", type=float, default=60.0)
    parser.add_argument("--no-r", action="store_true", help="skip R's mixsqp")
    parser.add_argument("--quick", action="store_true", help="small smoke run")
    parser.add_argument("--output", default=None)
    args = parser.parse_args(argv)
    if args.quick:
        args.n, args.m = [2000], [20, 50]
        args.em_budget, args.squarem_budget = 2.0, 5.0
        args.em_max_budget = 5.0
    output = args.output or os.path.join(
        HERE, "results", "solvers-quick.json" if args.quick else "solvers.json"
    )

    print(BLAS_NOTE)
    r_reason = "--no-r given" if args.no_r else r_available()
    if r_reason:
        print(f"R mixsqp: skipped ({r_reason})")
    print(f"Stopping rule: certified gap log(max_k g_k) <= {args.tol:g} per sample")
    print(HEADER)
    sizes = [(n, m) for n in args.n for m in args.m]
    all_rows = []
    for n, m in sizes:
        all_rows += bench_size(n, m, args, r_reason)
    print()
    lines, all_met = targets(all_rows, sizes)
    print("\n".join(lines))
    print("All targets met." if all_met else "Some targets missed (see above).")

    os.makedirs(os.path.dirname(output), exist_ok=True)
    with open(output, "w") as fh:
        json.dump(
            {
                "date": datetime.datetime.now(datetime.timezone.utc).isoformat(),
                "command": " ".join([os.path.basename(sys.argv[0]), *sys.argv[1:]]),
                "machine": platform.platform(),
                "processor": platform.processor(),
                "cpu_count": os.cpu_count(),
                "python": platform.python_version(),
                "numpy": np.__version__,
                "blas": BLAS_NOTE,
                "r_mixsqp": r_reason or "run",
                "tol": args.tol,
                "seed": args.seed,
                "results": all_rows,
                "targets": lines,
                "all_targets_met": all_met,
            },
            fh,
            indent=2,
        )
    print(f"Results written to {os.path.relpath(output)}")


if __name__ == "__main__":
    main()
