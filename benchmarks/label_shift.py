"""Benchmark class-prior estimation under label shift against QuaPy and BBSE.

Usage::

    python benchmarks/label_shift.py                  # all data sets, ~5 minutes
    python benchmarks/label_shift.py --quick          # smoke run
    python benchmarks/label_shift.py --datasets wine digits --n-priors 20

Protocol (the artificial-prevalence protocol, APP, of quantification): each
data set is split, stratified, into a training part (40%) on which one base
classifier is fitted, a labelled validation part (20%) from the same
(source) distribution, used only by the methods that need one (calibration,
misclassification rates), and a test pool (40%). ``--n-priors`` target
priors are drawn from the flat Dirichlet distribution, and for each one
``--repeats`` test samples of ``--sample-size`` rows are drawn from the pool
with exactly those class counts (rounded; with replacement within each
class). Every method sees the same classifier, the same validation data and
the same samples.

Methods:

- ``unadjusted``: the training class proportions and the classifier's own
  posteriors (the baseline);
- ``ours``: ``LabelShiftAdapter`` without calibration;
- ``ours-em``: the same with ``solver="em"`` (stops short of exact zeros);
- ``ours-bcts``: ``LabelShiftAdapter(calibration="bcts")`` on the validation
  part (refitted at every ``fit``, so its time includes the calibration);
- ``ours-sk-ts``: ``LabelShiftAdapter`` around scikit-learn's
  ``CalibratedClassifierCV(FrozenEstimator(clf), method="temperature")``
  fitted on the validation part (scikit-learn >= 1.8), with the source
  priors set to its mean calibrated posterior on the validation part;
- ``quapy-emq``: QuaPy's ``EMQ`` with the exact training prevalence;
- ``quapy-emq-bcts``: QuaPy's ``EMQ(calib="bcts", exact_train_prev=False)``
  with the validation part (its ``EMQ_BCTS`` configuration);
- ``quapy-acc``, ``quapy-pacc``: QuaPy's adjusted (probabilistic) classify
  and count, with the validation part;
- ``bbse``: black-box shift estimation (Lipton, Wang & Smola, 2018),
  written here: ``w = C^-1 mu`` with ``C`` the joint confusion matrix of
  the classifier's hard predictions on the validation part and ``mu`` the
  distribution of its predictions on the sample; priors ``w * p_val``,
  clipped at 0 and renormalised.

Metrics, averaged over all samples: MAE of the priors (mean over classes of
``|estimate - sample proportion|``), the log-loss and accuracy of the
adjusted posteriors on the sample's labels, and the seconds to estimate one
sample's priors (wall time of ``fit`` / ``quantify``), and the number of
(sample, class) pairs where a class present in the sample is estimated at
exactly zero. The posteriors of
ACC, PACC and BBSE are the classifier's, re-weighted by ``estimate /
training proportion`` (the adjustment their estimates imply); EMQ's are
QuaPy's ``predict_proba``. Log-losses clip probabilities at 1e-15, as a
class estimated at zero can make it infinite. Results go to stdout and to
``benchmarks/results/label_shift.json``. BLAS runs on one thread.
"""

import os

# One BLAS thread for every method, set before numpy loads its BLAS: the
# per-sample problems are small, and on a shared machine threaded BLAS
# calls of this size spent most of their time waiting for cores.
for _var in (
    "OPENBLAS_NUM_THREADS",
    "OMP_NUM_THREADS",
    "MKL_NUM_THREADS",
    "BLIS_NUM_THREADS",
):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sklearn.datasets import (  # noqa: E402
    load_breast_cancer,
    load_digits,
    load_wine,
    make_classification,
)
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

from sklearn_bernoulli_mix import LabelShiftAdapter  # noqa: E402

EPS = 1e-15


def load(name):
    if name == "digits":
        return load_digits(return_X_y=True)
    if name == "breast_cancer":
        return load_breast_cancer(return_X_y=True)
    if name == "wine":
        return load_wine(return_X_y=True)
    if name == "synthetic":
        return make_classification(
            n_samples=60_000,
            n_features=20,
            n_informative=10,
            n_redundant=4,
            n_classes=5,
            n_clusters_per_class=1,
            class_sep=1.0,
            random_state=0,
        )
    raise ValueError(name)


def bbse(clf, X_val, y_val, n_classes):
    """Black-box shift estimation from hard predictions (Lipton et al., 2018)."""
    pred = clf.predict(X_val)
    conf = np.zeros((n_classes, n_classes))
    np.add.at(conf, (pred, y_val), 1.0)
    conf /= len(y_val)
    p_val = np.bincount(y_val, minlength=n_classes) / len(y_val)

    def estimate(X):
        mu = np.bincount(clf.predict(X), minlength=n_classes) / X.shape[0]
        w = np.linalg.lstsq(conf, mu, rcond=None)[0]
        q = np.clip(w * p_val, 0, None)
        return q / q.sum() if q.sum() > 0 else np.full(n_classes, 1 / n_classes)

    return estimate


def reweighted(proba, priors, source):
    adjusted = proba * (priors / source)
    total = adjusted.sum(axis=1, keepdims=True)
    out = np.where(total > 0, adjusted / np.where(total > 0, total, 1), proba)
    return out


class _Adapter:
    """A LabelShiftAdapter refitted on each sample; posteriors of the last fit."""

    def __init__(self, adapter, **fit_params):
        self.adapter = adapter
        self.fit_params = fit_params

    def estimate(self, X):
        return self.adapter.fit(X, **self.fit_params).priors_

    def posteriors(self, X):
        return self.adapter.predict_proba(X)

    def pair(self):
        return self.estimate, self.posteriors


def build_methods(clf, X_train, y_train, X_val, y_val, n_classes, skip):
    """Map method name -> (estimate(X) -> priors, posteriors(X) -> proba)."""
    source = np.bincount(y_train, minlength=n_classes) / len(y_train)
    methods = {}

    methods["unadjusted"] = (lambda X: source, clf.predict_proba)

    methods["ours"] = _Adapter(LabelShiftAdapter(clf, source_priors=source)).pair()
    methods["ours-em"] = _Adapter(
        LabelShiftAdapter(clf, source_priors=source, solver="em")
    ).pair()
    methods["ours-bcts"] = _Adapter(
        LabelShiftAdapter(clf, calibration="bcts"), calibration_data=(X_val, y_val)
    ).pair()
    try:
        from sklearn.calibration import CalibratedClassifierCV
        from sklearn.frozen import FrozenEstimator

        ts = CalibratedClassifierCV(FrozenEstimator(clf), method="temperature")
        ts.fit(X_val, y_val)
        ts_source = ts.predict_proba(X_val).mean(axis=0)
        methods["ours-sk-ts"] = _Adapter(
            LabelShiftAdapter(ts, source_priors=ts_source)
        ).pair()
    except (ImportError, ValueError) as exc:
        print(f"  ours-sk-ts skipped: {exc}")

    if "quapy" not in skip:
        try:
            from quapy.method.aggregative import ACC, EMQ, PACC

            emq = EMQ(clf, fit_classifier=False, exact_train_prev=True)
            emq.fit(X_train, y_train)
            methods["quapy-emq"] = (emq.quantify, emq.predict_proba)
            emq_bcts = EMQ(
                clf,
                fit_classifier=False,
                val_split=(X_val, y_val),
                exact_train_prev=False,
                calib="bcts",
            )
            emq_bcts.fit(X_train, y_train)
            methods["quapy-emq-bcts"] = (emq_bcts.quantify, emq_bcts.predict_proba)
            for name, cls in (("quapy-acc", ACC), ("quapy-pacc", PACC)):
                q = cls(clf, fit_classifier=False, val_split=(X_val, y_val))
                q.fit(X_train, y_train)
                methods[name] = (
                    q.quantify,
                    lambda X, q=q: reweighted(
                        clf.predict_proba(X), q.quantify(X), source
                    ),
                )
        except Exception as exc:  # noqa: BLE001 - report and go on
            print(f"  QuaPy methods skipped: {type(exc).__name__}: {exc}")

    est = bbse(clf, X_val, y_val, n_classes)
    methods["bbse"] = (
        est,
        lambda X: reweighted(clf.predict_proba(X), est(X), source),
    )
    return methods


def draw_sample(rng, pool_index_by_class, priors, size):
    counts = np.floor(priors * size).astype(int)
    # Largest remainders get the rounding leftovers, so counts sum to size.
    leftover = size - counts.sum()
    order = np.argsort(-(priors * size - counts))
    counts[order[:leftover]] += 1
    index = np.concatenate(
        [
            rng.choice(pool, size=c, replace=True)
            for pool, c in zip(pool_index_by_class, counts)
            if c
        ]
    )
    return index, counts / size


def run_dataset(name, args, rng):
    X, y = load(name)
    _, y = np.unique(y, return_inverse=True)
    n_classes = int(y.max()) + 1
    X_train, X_rest, y_train, y_rest = train_test_split(
        X, y, train_size=0.4, stratify=y, random_state=0
    )
    X_val, X_test, y_val, y_test = train_test_split(
        X_rest, y_rest, train_size=1 / 3, stratify=y_rest, random_state=0
    )
    clf = make_pipeline(StandardScaler(), LogisticRegression(max_iter=5000))
    clf.fit(X_train, y_train)
    methods = build_methods(
        clf, X_train, y_train, X_val, y_val, n_classes, set(args.skip)
    )
    by_class = [np.flatnonzero(y_test == k) for k in range(n_classes)]
    size = args.sample_size if name != "synthetic" else args.synthetic_sample_size
    records = {
        m: {"mae": [], "log_loss": [], "accuracy": [], "seconds": [], "zeros": []}
        for m in methods
    }
    for _ in range(args.n_priors):
        priors = rng.dirichlet(np.ones(n_classes))
        for _ in range(args.repeats):
            index, truth = draw_sample(rng, by_class, priors, size)
            Xs, ys = X_test[index], y_test[index]
            for m, (estimate, posteriors) in methods.items():
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    start = time.perf_counter()
                    q = np.asarray(estimate(Xs), dtype=float)
                    seconds = time.perf_counter() - start
                    proba = posteriors(Xs)
                p_true = np.clip(proba[np.arange(len(ys)), ys], EPS, None)
                rec = records[m]
                rec["mae"].append(float(np.mean(np.abs(q - truth))))
                rec["log_loss"].append(float(-np.mean(np.log(p_true))))
                rec["accuracy"].append(float(np.mean(proba.argmax(axis=1) == ys)))
                rec["seconds"].append(seconds)
                rec["zeros"].append(int(np.sum((q <= 0) & (truth > 0))))
    summary = {}
    for m, rec in records.items():
        n = len(rec["mae"])
        summary[m] = {
            "mae": float(np.mean(rec["mae"])),
            "mae_se": float(np.std(rec["mae"], ddof=1) / np.sqrt(n)),
            "log_loss": float(np.mean(rec["log_loss"])),
            "accuracy": float(np.mean(rec["accuracy"])),
            "ms": 1e3 * float(np.median(rec["seconds"])),
            # Classes present in a sample but estimated at exactly zero.
            "zeros": int(np.sum(rec["zeros"])),
            "n_samples": n,
        }
    info = {
        "n_classes": n_classes,
        "n_rows": int(X.shape[0]),
        "n_features": int(X.shape[1]),
        "sample_size": size,
        "train": len(y_train),
        "val": len(y_val),
        "pool": len(y_test),
    }
    return summary, info


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--datasets",
        nargs="+",
        default=["digits", "breast_cancer", "wine", "synthetic"],
    )
    parser.add_argument("--n-priors", type=int, default=50)
    parser.add_argument("--repeats", type=int, default=4)
    parser.add_argument("--sample-size", type=int, default=250)
    parser.add_argument("--synthetic-sample-size", type=int, default=1000)
    parser.add_argument("--skip", nargs="*", default=[])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", default=None)
    args = parser.parse_args(argv)
    if args.quick:
        args.n_priors, args.repeats = 5, 2
    rng = np.random.default_rng(args.seed)
    versions = {"python": sys.version.split()[0]}
    for mod in ("numpy", "scipy", "sklearn", "quapy"):
        try:
            versions[mod] = __import__(mod).__version__
        except ImportError:
            versions[mod] = None
    results = {"versions": versions, "args": vars(args), "datasets": {}}
    for name in args.datasets:
        print(f"\n== {name}")
        summary, info = run_dataset(name, args, rng)
        results["datasets"][name] = {"info": info, "methods": summary}
        print(
            f"   {info['n_rows']} rows, {info['n_features']} features, "
            f"{info['n_classes']} classes; train {info['train']}, val {info['val']}, "
            f"pool {info['pool']}; {summary['ours']['n_samples']} samples of "
            f"{info['sample_size']}"
        )
        print(
            f"   {'method':<16}{'MAE':>16}{'log-loss':>10}{'accuracy':>10}"
            f"{'ms':>9}{'zeros':>7}"
        )
        for m, s in summary.items():
            print(
                f"   {m:<16}{s['mae']:>9.4f} ± {s['mae_se']:.4f}{s['log_loss']:>10.4f}"
                f"{s['accuracy']:>10.4f}{s['ms']:>9.2f}{s['zeros']:>7d}"
            )
    out = (
        Path(args.json)
        if args.json
        else (
            Path(__file__).parent
            / "results"
            / ("label_shift-quick.json" if args.quick else "label_shift.json")
        )
    )
    os.makedirs(out.parent, exist_ok=True)
    out.write_text(json.dumps(results, indent=1))
    print(f"\nwritten to {out}")


if __name__ == "__main__":
    main()
