"""Where BernoulliMixture spends its time per EM iteration.

Usage::

    python benchmarks/profile_ours.py                   # dense 200,000 x 100
    python benchmarks/profile_ours.py --dataset sparse --dtype float32

Three views of the same fit (``means_init``/``weights_init`` from the
benchmark's cache, ``tol=0``, ``alpha=0``, ``binarize=None``, threads as
``--threads``, OPENBLAS_CORETYPE/OPENBLAS_L2_SIZE unset as in run.py):

1. seconds per iteration, by difference of a long and a short fit;
2. cProfile of the long fit, functions sorted by own time, per iteration;
3. line_profiler over every function and method defined in ``_blocks.py``
   as it is now (needs ``pip install line_profiler``);
4. the numpy floor's whole-array steps on the same data, for comparison.
"""

import os
import sys

for _var in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):
    os.environ.pop(_var, None)

import argparse  # noqa: E402
import cProfile  # noqa: E402
import io  # noqa: E402
import pstats  # noqa: E402
import re  # noqa: E402
import time  # noqa: E402
from collections import defaultdict  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--dataset", default="dense", choices=["dense", "sparse", "missing", "digits"]
    )
    parser.add_argument("--dtype", default="float64", choices=["float64", "float32"])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--iters", type=int, default=10)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(args.threads)

    import _data
    import _methods
    import numpy as np
    import scipy.sparse as sp
    from threadpoolctl import threadpool_info, threadpool_limits

    from sklearn_bernoulli_mix import _blocks

    threadpool_limits(args.threads)
    X, w, m = _data.load(args.dataset, args.quick)
    if args.dtype == "float32":
        X = X.astype(np.float32)
    blas = [d for d in threadpool_info() if d["user_api"] == "blas"]
    print(
        f"data {args.dataset} {X.shape} {args.dtype}"
        f"{' CSR' if sp.issparse(X) else ''}, {len(w)} components; "
        f"BLAS: {', '.join(d['version'] + ' ' + d.get('architecture', '') for d in blas)};"
        f" threads {args.threads}"
    )

    def timed_fit(n):
        t0 = time.perf_counter()
        _methods.ours_fit(X, w, m, n)
        return time.perf_counter() - t0

    # 1. seconds per iteration
    timed_fit(1)
    short, long = 2, 2 + args.iters
    t_short = min(timed_fit(short) for _ in range(3))
    t_long = min(timed_fit(long) for _ in range(3))
    per_iter = (t_long - t_short) / (long - short)
    print(f"\n1. seconds per iteration (best of 3 pairs): {per_iter * 1e3:.1f} ms")
    print(
        f"   fixed cost estimate (validation, init; noisy): {(t_short - short * per_iter) * 1e3:.1f} ms"
    )

    # 2. cProfile
    prof = cProfile.Profile()
    prof.enable()
    _methods.ours_fit(X, w, m, long)
    prof.disable()
    out = io.StringIO()
    stats = pstats.Stats(prof, stream=out)
    stats.sort_stats("tottime").print_stats(18)
    print(
        f"\n2. cProfile of a {long}-iteration fit (sorted by own time; divide by {long}):"
    )
    keep = False
    for line in out.getvalue().splitlines():
        if line.strip().startswith("ncalls"):
            keep = True
        if keep and line.strip():
            print("   " + line)

    # 3. line timings of every function of _blocks (whatever they are now)
    try:
        from line_profiler import LineProfiler
    except ImportError:
        print("\n3. line_profiler is not installed: pip install line_profiler")
        LineProfiler = None
    if LineProfiler is not None:
        import inspect

        from sklearn_bernoulli_mix import _bernoulli

        lp = LineProfiler()
        for mod in (_blocks,):
            for obj in vars(mod).values():
                if inspect.isfunction(obj) and obj.__module__ == mod.__name__:
                    lp.add_function(obj)
                elif inspect.isclass(obj) and obj.__module__ == mod.__name__:
                    for member in vars(obj).values():
                        if inspect.isfunction(member):
                            lp.add_function(member)
        # Module-level names are looked up at call time, so wrapping them in
        # both modules makes the estimator call the profiled versions.
        originals = {}
        for mod in (_blocks, _bernoulli):
            for name, obj in list(vars(mod).items()):
                if inspect.isfunction(obj) and obj.__module__ == _blocks.__name__:
                    originals[(mod, name)] = obj
                    setattr(mod, name, lp(obj))
        try:
            _methods.ours_fit(X, w, m, long)
        finally:
            for (mod, name), obj in originals.items():
                setattr(mod, name, obj)
        out = io.StringIO()
        lp.print_stats(stream=out, output_unit=1e-3, stripzeros=True)
        print(
            f"\n3. line_profiler over _blocks.py, one {long}-iteration fit "
            f"(ms in total; divide by {long} for per iteration; the profiler "
            "adds overhead per line hit):"
        )
        print("   line    hits   ms total  % of func  code (lines that ran)")
        for line in out.getvalue().splitlines():
            if line.startswith("Function:"):
                print("   " + line)
                continue
            ran = re.match(
                r"\s*(\d+)\s+(\d+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+(.*)$", line
            )
            if ran:
                lineno, hits, total_ms, _, share, code = ran.groups()
                print(
                    f"   {lineno:>4s} {hits:>7s} {float(total_ms):10.1f}"
                    f"  {share:>8s}  {code.strip()}"
                )

    # 4. the floor's whole-array steps, for comparison
    reps = 5
    odds_t, log_q, log_w = _methods._floor_params(w, m, X.dtype)
    bias = (log_w + log_q.sum(axis=1)).astype(X.dtype)
    floor = defaultdict(float)
    if args.dataset != "missing":
        for _ in range(reps):
            t = time.perf_counter()
            L = np.asarray(X @ odds_t)
            L += bias
            t1 = time.perf_counter()
            mx = L.max(axis=1, keepdims=True)
            L -= mx
            np.exp(L, out=L)
            s = L.sum(axis=1, keepdims=True)
            L /= s
            _ = (np.log(s) + mx).sum()
            t2 = time.perf_counter()
            L.sum(axis=0)
            _ = X.T @ L if sp.issparse(X) else L.T @ X
            t3 = time.perf_counter()
            floor["E: X @ log-odds + bias"] += t1 - t
            floor["row log-sum-exp, normalise"] += t2 - t1
            floor["M: column sums, resp.T @ X"] += t3 - t2
            floor["total"] += t3 - t
        print("\n4. the numpy floor, whole array, one pass (mean of 5):")
        for key, value in floor.items():
            print(f"   {key:32s} {value / reps * 1e3:8.2f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
