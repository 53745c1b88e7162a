"""Benchmark BernoulliMixture against the numpy floor and its peers.

Usage::

    python benchmarks/run.py                 # full run (about 15 minutes)
    python benchmarks/run.py --quick         # small smoke run
    python benchmarks/run.py --datasets dense sparse --repeats 5 --threads 2

Every (method, data set) pair runs in a fresh child process (``subprocess``,
the same interpreter running this file with ``--child``). The child loads the
cached data, converts it to the input that method takes, then

1. fits 1 iteration on the first 500 rows (warm-up: lazy imports, pools);
2. ``--repeats`` times fits ``long`` and ``short`` iterations and takes
   ``(t_long - t_short) / (long - short)`` as seconds per EM iteration, so
   validation and initialisation cancel out; the table shows the median. The
   first long fit also gives the peak memory and the parameters from which
   the final log-likelihood is computed.

Peak memory above the input is the child's resident-set high-water mark
(``VmHWM`` in /proc/self/status, reset through /proc/self/clear_refs just
before the fit) minus its resident set size (``VmRSS``) just before the fit,
with the input already loaded. It counts every allocation (numpy, scipy,
torch), unlike tracemalloc.

OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE are removed from this process's
environment before numpy is imported (they only exist to work around old
OpenBLAS builds and slow a current one down); the children inherit that
environment. BLAS, OpenMP and torch threads are set to ``--threads``.
"""

import os
import sys

# Before numpy is imported anywhere in this process or its children.
_BLAS_VARS = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
_REMOVED_ENV = {k: os.environ.pop(k) for k in _BLAS_VARS if k in os.environ}

import argparse  # noqa: E402
import datetime  # noqa: E402
import gc  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import time  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
RESULTS = os.path.join(HERE, "results")
sys.path.insert(0, HERE)

DATASETS = ("digits", "dense", "sparse", "missing", "converged")

# Methods per data set, in table order.
PLAN = {
    "digits": [
        "ours-f64",
        "ours-f32",
        "floor-f64",
        "floor-f32",
        "stepmix",
        "pomegranate",
        "gmm-diag",
    ],
    "dense": [
        "ours-f64",
        "ours-f32",
        "ours-u8",
        "floor-f64",
        "floor-f32",
        "stepmix",
        "pomegranate",
        "gmm-diag",
    ],
    "sparse": [
        "ours-csr-f64",
        "ours-csr-f32",
        "floor-csr-f64",
        "stepmix",
        "pomegranate-clamped",
        "gmm-diag",
    ],
    "missing": ["ours-f64", "ours-f32", "floor-mask-f64", "stepmix-nan"],
    "converged": ["ours-f64", "ours-f32", "ours-u8", "floor-f64", "floor-f32"],
}

# (short, long) iteration counts; slow peers are capped on the large sets.
ITERS = {
    "digits": (20, 220),
    "dense": (2, 12),
    "sparse": (2, 12),
    "missing": (2, 12),
    "converged": (2, 12),
}
QUICK_ITERS = {
    "digits": (5, 25),
    "dense": (1, 4),
    "sparse": (1, 4),
    "missing": (1, 4),
    "converged": (1, 4),
}
# (method, data set) -> (short, long, max repeats): the caps, said in the table.
# pomegranate takes minutes per iteration on the sparse set (densified), so
# only its clamped variant runs there, for one iteration (short = 0: no fit).
CAPS = {
    ("pomegranate", "digits"): (5, 45, 3),
    ("pomegranate-clamped", "digits"): (5, 45, 3),
    ("pomegranate", "dense"): (1, 3, 1),
    ("pomegranate-clamped", "dense"): (1, 3, 1),
    ("pomegranate-clamped", "sparse"): (0, 1, 1),
    ("stepmix", "sparse"): (1, 3, 1),
    ("gmm-diag", "sparse"): (1, 5, 2),
    ("stepmix-nan", "missing"): (2, 6, 2),
}


def input_label(dataset, method):
    if method.startswith("ours-csr") or method.startswith("floor-csr"):
        return "CSR f" + method[-2:]
    if method.endswith("f32"):
        return "dense f32"
    if method.endswith("u8"):
        return "dense uint8"
    kind = "torch" if method.startswith("pomegranate") else "dense"
    if dataset == "sparse":
        return f"{kind} f64 (densified)"
    return f"{kind} f64"


# --------------------------------------------------------------------------
# child side


def _proc_status():
    out = {}
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(("VmHWM", "VmRSS")):
                out[line.split(":")[0]] = int(line.split()[1]) * 1024
    return out


def _reset_peak():
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def run_child(spec):
    import resource

    import _data
    import _methods
    import numpy as np
    from threadpoolctl import threadpool_info, threadpool_limits

    threads = spec["threads"]
    threadpool_limits(limits=threads)
    label, prepare, fit, kind = _methods.METHODS[spec["method"]]
    if spec["method"].startswith("pomegranate"):
        import torch

        torch.set_num_threads(threads)
    if spec["method"].startswith("stepmix"):
        import stepmix.stepmix  # noqa: F401
    if spec["method"].startswith("pomegranate"):
        import pomegranate.gmm  # noqa: F401
    import sklearn.mixture  # noqa: F401

    import sklearn_bernoulli_mix  # noqa: F401

    X0, weights, means = _data.load(spec["dataset"], spec["quick"])
    X = prepare(X0)
    if X is not X0:
        del X0
    gc.collect()
    short, long = spec["short"], spec["long"]

    # 1. warm-up on a slice (lazy imports, thread pools, allocator arenas)
    fit(X[: min(X.shape[0], 500)], weights, means, 1)
    gc.collect()

    # 2. timing; the first long fit also gives the peak memory and the
    # parameters from which the final log-likelihood is computed
    pairs, cpu_pairs = [], []
    peak = None
    memory_how = None
    w_fit = m_fit = gmm = None
    for rep in range(spec["repeats"]):
        # The first pair fits long before short, so that the memory is that
        # of the first full-size fit in this process (nothing freed by an
        # earlier fit is waiting in the allocator to be reused).
        if rep == 0:
            gc.collect()
            rss_before = _proc_status()["VmRSS"]
            maxrss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
            peak_reset = _reset_peak()
        t0, c0 = time.perf_counter(), time.process_time()
        w, m, info = fit(X, weights, means, long)
        t_long, c_long = time.perf_counter() - t0, time.process_time() - c0
        if rep == 0:
            if peak_reset:
                peak = _proc_status()["VmHWM"] - rss_before
                memory_how = "VmHWM - VmRSS (clear_refs reset)"
            else:
                peak = (
                    resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
                    - maxrss_before
                )
                memory_how = "ru_maxrss increase"
            w_fit, m_fit, gmm = w, m, info.get("estimator")
        del w, m, info
        gc.collect()
        t0, c0 = time.perf_counter(), time.process_time()
        if short > 0:
            fit(X, weights, means, short)
        t_short, c_short = time.perf_counter() - t0, time.process_time() - c0
        gc.collect()
        pairs.append((t_short, t_long))
        cpu_pairs.append((c_short, c_long))
    per_iter = [(tl - ts) / (long - short) for ts, tl in pairs]
    cpu_per_iter = [(cl - cs) / (long - short) for cs, cl in cpu_pairs]
    has_nan = bool(np.isnan(w_fit).any() or np.isnan(m_fit).any())

    # 3. final log-likelihood, on the original data in float64
    if gmm is not None:
        ll = float(gmm.score(X))
        ll_kind = "gaussian"
    else:
        del X
        gc.collect()
        X_orig = _data.load(spec["dataset"], spec["quick"])[0]
        ll = float(_data.mean_log_likelihood(X_orig, w_fit, m_fit))
        ll_kind = "bernoulli"
    blas = [
        {k: v for k, v in d.items() if k != "filepath"}
        | {"filepath": os.path.basename(d.get("filepath", ""))}
        for d in threadpool_info()
    ]
    return {
        "method": spec["method"],
        "dataset": spec["dataset"],
        "label": label,
        "kind": kind,
        "short": short,
        "long": long,
        "repeats": spec["repeats"],
        "seconds_per_iter": statistics.median(per_iter),
        "seconds_per_iter_all": per_iter,
        "fit_seconds": pairs,
        "cpu_seconds_per_iter": statistics.median(cpu_per_iter),
        "cpu_seconds_per_iter_all": cpu_per_iter,
        "fit_cpu_seconds": cpu_pairs,
        "peak_bytes_above_input": peak,
        "memory_how": memory_how,
        "mean_log_likelihood": ll,
        "log_likelihood_kind": ll_kind,
        "nan_parameters": has_nan,
        "threadpool_info": blas,
    }


# --------------------------------------------------------------------------
# parent side


def cpu_model():
    info = {}
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                key, _, value = line.partition(":")
                key = key.strip()
                if (
                    key in ("model name", "cpu family", "model", "flags")
                    and key not in info
                ):
                    info[key] = value.strip()
    except OSError:
        pass
    flags = set(info.get("flags", "").split())
    simd = [f for f in ("avx512f", "avx2", "fma", "avx") if f in flags]
    return (
        f"{info.get('model name', platform.processor())} "
        f"(family {info.get('cpu family', '?')}, model {info.get('model', '?')}; "
        f"{', '.join(simd)}), {os.cpu_count()} logical CPUs"
    )


def loadavg():
    try:
        with open("/proc/loadavg") as f:
            return " ".join(f.read().split()[:3])
    except OSError:
        return None


def versions():
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": platform.python_version()}
    for name in (
        "numpy",
        "scipy",
        "scikit-learn",
        "sklearn-bernoulli-mix",
        "threadpoolctl",
        "stepmix",
        "pomegranate",
        "torch",
    ):
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = None
    return out


def git_state():
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=HERE,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "../src/sklearn_bernoulli_mix"],
            cwd=HERE,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        return head + (" (package has uncommitted changes)" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return None


def spawn(spec, timeout):
    cmd = [sys.executable, os.path.abspath(__file__), "--child", json.dumps(spec)]
    t0 = time.perf_counter()
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout} s"}
    wall = time.perf_counter() - t0
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith("RESULT "):
            out = json.loads(line[len("RESULT ") :])
            out["child_wall_seconds"] = wall
            return out
    tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
    return {"error": " | ".join(tail) or f"exit code {proc.returncode}"}


def fmt_time(s):
    if s is None:
        return "—"
    if s < 1e-3:
        return f"{s * 1e6:.0f} µs"
    if s < 1:
        return f"{s * 1e3:.1f} ms"
    return f"{s:.2f} s"


def fmt_ratio(r):
    return "—" if r is None else f"{r:.2f}x"


def fmt_mb(b):
    return "—" if b is None else f"{b / 2**20:.1f}"


def _time(results, dataset, method):
    r = results.get((dataset, method))
    if r is None or "error" in r:
        return None
    return r["seconds_per_iter"]


def our_reference(dataset):
    return "ours-csr-f64" if dataset == "sparse" else "ours-f64"


def floor_reference(dataset, method):
    if dataset == "sparse":
        return "floor-csr-f64"
    if dataset == "missing":
        return "floor-mask-f64"
    return "floor-f64"


def dense_nbytes(dataset, quick):
    import _data

    n, d, _ = (_data.QUICK if quick else _data.FULL)[dataset]
    return n * d * 8


def build_rows(results, datasets):
    rows = []
    for dataset in datasets:
        ours_t = _time(results, dataset, our_reference(dataset))
        for method in results_order(results, dataset):
            r = results[(dataset, method)]
            row = {
                "dataset": dataset,
                "method": method,
                "input": input_label(dataset, method),
            }
            if "error" in r:
                row.update(error=r["error"])
                rows.append(row)
                continue
            t = r["seconds_per_iter"]
            row.update(
                label=r["label"],
                seconds_per_iter=t,
                cpu_seconds_per_iter=r["cpu_seconds_per_iter"],
                vs_ours=None if ours_t is None else t / ours_t,
                vs_floor=None,
                mean_log_likelihood=r["mean_log_likelihood"],
                ll_kind=r["log_likelihood_kind"],
                iters=f"{r['short']}/{r['long']}",
                repeats=r["repeats"],
                peak_bytes_above_input=r["peak_bytes_above_input"],
                nan_parameters=r["nan_parameters"],
            )
            if r["kind"] == "ours":
                floor_t = _time(results, dataset, floor_reference(dataset, method))
                row["vs_floor"] = None if floor_t is None else t / floor_t
            rows.append(row)
    return rows


def results_order(results, dataset):
    order = []
    for method in dict.fromkeys(PLAN[dataset] + ["pomegranate-clamped"]):
        if (dataset, method) in results:
            order.append(method)
    return order


def notes_for(row, capped):
    notes = []
    if row["dataset"] == "sparse" and "densified" in row["input"]:
        notes.append("cannot take sparse input")
    if (row["method"], row["dataset"]) in capped:
        notes.append("iterations capped")
    if row["method"] == "pomegranate-clamped" and row["dataset"] == "sparse":
        notes.append("plain variant not run here (NaN on digits/dense)")
    if row.get("nan_parameters"):
        notes.append("NaN parameters")
    if row.get("seconds_per_iter", 1) <= 0:
        notes.append("UNRELIABLE: long fit not slower than short fit")
    if row.get("ll_kind") == "gaussian":
        notes.append("Gaussian log-density")
    return "; ".join(notes)


def render_table(rows, capped):
    head = (
        "| data set | method | input | s / iter | CPU s / iter | vs ours | vs floor | "
        "mean log-lik | iters short/long | peak MiB above input | notes |"
    )
    lines = [head, "|" + "---|" * 11]
    for row in rows:
        if "error" in row:
            lines.append(
                f"| {row['dataset']} | {row['method']} | {row['input']} | "
                f"failed | | | | | | | {row['error'][:120]} |"
            )
            continue
        ll = row["mean_log_likelihood"]
        ll_s = "NaN" if ll != ll else f"{ll:.5f}"
        lines.append(
            f"| {row['dataset']} | {row['label']} | {row['input']} | "
            f"{fmt_time(row['seconds_per_iter'])} | "
            f"{fmt_time(row['cpu_seconds_per_iter'])} | {fmt_ratio(row['vs_ours'])} | "
            f"{fmt_ratio(row['vs_floor'])} | {ll_s} | {row['iters']} | "
            f"{fmt_mb(row['peak_bytes_above_input'])} | {notes_for(row, capped)} |"
        )
    return "\n".join(lines)


def evaluate_targets(results, quick):
    targets = []

    def add(name, value, limit, detail, unit="x", cpu_value=None):
        if value is None:
            targets.append({"target": name, "status": "not measured", "detail": detail})
            return
        met = value <= limit
        targets.append(
            {
                "target": name,
                "status": "met" if met else "missed",
                "value": value,
                "limit": limit,
                "detail": detail,
                "unit": unit,
                "cpu_value": cpu_value,
            }
        )

    def ratio(a, b):
        return None if a is None or b is None else a / b

    def cpu(dataset, method):
        r = results.get((dataset, method))
        if r is None or "error" in r:
            return None
        return r["cpu_seconds_per_iter"]

    def pair(d1, m1, d2, m2):
        return {
            "value": ratio(_time(results, d1, m1), _time(results, d2, m2)),
            "cpu_value": ratio(cpu(d1, m1), cpu(d2, m2)),
        }

    for dataset in ("dense", "converged"):
        add(
            f"{dataset}: float64 <= 0.15x floor",
            limit=0.15,
            detail=f"ours-f64 / floor-f64 on {dataset}",
            **pair(dataset, "ours-f64", dataset, "floor-f64"),
        )
        add(
            f"{dataset}: uint8 <= 0.10x floor",
            limit=0.10,
            detail=f"ours-u8 / floor-f64 on {dataset}",
            **pair(dataset, "ours-u8", dataset, "floor-f64"),
        )
        add(
            f"{dataset}: float32 <= 0.10x the float64 floor",
            limit=0.10,
            detail=f"ours-f32 / floor-f64 on {dataset}",
            **pair(dataset, "ours-f32", dataset, "floor-f64"),
        )
        add(
            f"{dataset}: float32 <= 0.10x the float32 floor",
            limit=0.10,
            detail=f"ours-f32 / floor-f32 on {dataset}",
            **pair(dataset, "ours-f32", dataset, "floor-f32"),
        )
    add(
        "sparse <= 0.3x the sparse floor",
        limit=0.3,
        detail="ours-csr-f64 / floor-csr-f64 on sparse",
        **pair("sparse", "ours-csr-f64", "sparse", "floor-csr-f64"),
    )
    r = results.get(("sparse", "ours-csr-f64"))
    mem = None
    if r is not None and "error" not in r:
        mem = r["peak_bytes_above_input"] / dense_nbytes("sparse", quick)
    add(
        "sparse peak memory above input < 10% of the dense array",
        mem,
        0.1,
        "ours-csr-f64 peak above input / (n x d x 8 bytes)",
        unit="fraction",
    )
    add(
        "missing <= 2x our complete-data time",
        limit=2.0,
        detail="ours-f64 on missing / ours-f64 on dense",
        **pair("missing", "ours-f64", "dense", "ours-f64"),
    )
    for dataset in DATASETS:
        ours = [
            (m, _time(results, dataset, m))
            for m in PLAN[dataset]
            if m.startswith("ours") and _time(results, dataset, m) is not None
        ]
        peers = [
            (m, _time(results, dataset, m))
            for m in dict.fromkeys(PLAN[dataset] + ["pomegranate-clamped"])
            if m.startswith(("stepmix", "pomegranate"))
            and _time(results, dataset, m) is not None
        ]
        if not ours or not peers:
            continue
        slowest_ours = max(ours, key=lambda x: x[1])
        fastest_peer = min(peers, key=lambda x: x[1])
        add(
            f"{dataset}: never slower than StepMix or pomegranate",
            limit=1.0,
            detail=f"slowest of ours ({slowest_ours[0]}) / fastest peer "
            f"({fastest_peer[0]})",
            **pair(dataset, slowest_ours[0], dataset, fastest_peer[0]),
        )
    return targets


def render_targets(targets):
    lines = []
    for t in targets:
        if t["status"] == "not measured":
            lines.append(f"- {t['target']}: not measured ({t['detail']})")
        elif t["unit"] == "fraction":
            lines.append(
                f"- {t['target']}: **{t['status']}** — {t['value']:.1%} ({t['detail']})"
            )
        else:
            cpu_note = ""
            if t.get("cpu_value") is not None:
                cpu_note = f"; CPU-time ratio {t['cpu_value']:.2f}x"
                if (t["cpu_value"] <= t["limit"]) != (t["value"] <= t["limit"]):
                    cpu_note += ", which disagrees: the machine was busy"
            lines.append(
                f"- {t['target']}: **{t['status']}** — {t['value']:.2f}x "
                f"({t['detail']}{cpu_note})"
            )
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="small smoke run")
    parser.add_argument(
        "--datasets", nargs="+", choices=DATASETS, default=list(DATASETS)
    )
    parser.add_argument(
        "--methods", nargs="+", default=None, help="only these methods (see PLAN)"
    )
    parser.add_argument(
        "--repeats", type=int, default=None, help="default 5 (quick: 1)"
    )
    parser.add_argument(
        "--threads", type=int, default=1, help="BLAS/OpenMP/torch threads"
    )
    parser.add_argument(
        "--json", default=None, help="default benchmarks/results/latest[-quick].json"
    )
    parser.add_argument(
        "--skip", nargs="+", default=(), help="leave out these methods (see PLAN)"
    )
    parser.add_argument("--timeout", type=float, default=900, help="per child, seconds")
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.child is not None:
        result = run_child(json.loads(args.child))
        print("RESULT " + json.dumps(result))
        return 0

    threads = str(args.threads)
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = threads
    repeats = args.repeats or (1 if args.quick else 5)
    iters = QUICK_ITERS if args.quick else ITERS
    json_path = args.json or os.path.join(
        RESULTS, "latest-quick.json" if args.quick else "latest.json"
    )
    os.makedirs(os.path.dirname(os.path.abspath(json_path)), exist_ok=True)

    removed = (
        ", ".join(f"{k}={v!r}" for k, v in _REMOVED_ENV.items())
        if _REMOVED_ENV
        else "neither was set"
    )
    print(f"# BernoulliMixture benchmark ({'quick' if args.quick else 'full'})")
    print(f"CPU: {cpu_model()}")
    print(
        f"Threads: {args.threads} (OPENBLAS/OMP/MKL_NUM_THREADS, threadpoolctl, torch)"
    )
    print(f"Unset for this benchmark: {', '.join(_BLAS_VARS)} ({removed})")
    vers = versions()
    print("Versions: " + ", ".join(f"{k} {v}" for k, v in vers.items()))
    print(f"Package commit: {git_state()}")
    load_start = loadavg()
    print(f"Load average at start (1, 5, 15 min): {load_start}")
    sys.stdout.flush()

    # Build the data caches first (in this process), then free them.
    import _data

    for dataset in args.datasets:
        t0 = time.perf_counter()
        _data.load(dataset, args.quick)
        gc.collect()
        print(f"data {dataset}: ready ({time.perf_counter() - t0:.1f} s)", flush=True)

    results = {}
    capped = set()
    blas = None
    started = time.perf_counter()

    def run_one(dataset, method):
        nonlocal blas
        short, long = iters[dataset]
        reps = repeats
        if not args.quick and (method, dataset) in CAPS:
            short, long, max_reps = CAPS[(method, dataset)]
            reps = min(reps, max_reps)
            capped.add((method, dataset))
        spec = {
            "method": method,
            "dataset": dataset,
            "quick": args.quick,
            "short": short,
            "long": long,
            "repeats": reps,
            "threads": args.threads,
        }
        out = spawn(spec, args.timeout)
        results[(dataset, method)] = out
        if "error" in out:
            print(f"  {dataset:8s} {method:20s} FAILED: {out['error']}", flush=True)
        else:
            blas = blas or out["threadpool_info"]
            print(
                f"  {dataset:8s} {method:20s} {fmt_time(out['seconds_per_iter']):>10s}/iter"
                f"  ll {out['mean_log_likelihood']:.5f}"
                f"  peak {fmt_mb(out['peak_bytes_above_input'])} MiB"
                f"  ({out['child_wall_seconds']:.0f} s)",
                flush=True,
            )
        return out

    for dataset in args.datasets:
        for method in PLAN[dataset]:
            if args.methods and method not in args.methods:
                continue
            if method in args.skip:
                continue
            out = run_one(dataset, method)
            if method == "pomegranate" and out.get("nan_parameters"):
                # A user would clamp the probabilities away from 0 and 1.
                run_one(dataset, "pomegranate-clamped")
    total = time.perf_counter() - started

    rows = build_rows(results, args.datasets)
    targets = evaluate_targets(results, args.quick)
    blas_desc = "; ".join(
        f"{d.get('internal_api')} {d.get('version')} {d.get('architecture', '')} "
        f"({d.get('filepath')}, {d.get('num_threads')} threads)".replace("  ", " ")
        for d in (blas or [])
        if d.get("user_api") == "blas"
    )
    print()
    print(f"BLAS (threadpoolctl, in the children): {blas_desc}")
    load_end = loadavg()
    print(f"Total benchmark time: {total:.0f} s; load average at end: {load_end}")
    print()
    print(render_table(rows, capped))
    print()
    print("Targets:")
    print(render_targets(targets))
    payload = {
        "date": datetime.datetime.now().isoformat(timespec="seconds"),
        "quick": args.quick,
        "cpu": cpu_model(),
        "threads": args.threads,
        "unset_env": list(_BLAS_VARS),
        "unset_env_previous_values": _REMOVED_ENV,
        "blas": blas,
        "versions": vers,
        "package_commit": git_state(),
        "memory_measure": "child process RSS: VmHWM (reset via /proc/self/clear_refs) "
        "minus VmRSS just before the fit; input already loaded",
        "iterations": {d: iters[d] for d in args.datasets},
        "capped": sorted(f"{m}@{d}" for m, d in capped),
        "repeats": repeats,
        "total_seconds": total,
        "load_average_start": load_start,
        "load_average_end": load_end,
        "rows": rows,
        "raw": [v | {"key": f"{k[1]}@{k[0]}"} for k, v in results.items()],
        "targets": targets,
        "table_markdown": render_table(rows, capped),
    }
    with open(json_path, "w") as f:
        json.dump(payload, f, indent=1, default=str)
    print(f"\nJSON written to {json_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
