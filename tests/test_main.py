"""Tests of the command line: the marble-factory demo and fit-csv."""

import csv
import errno
import io
import os
import re
import subprocess
import sys
import tracemalloc
import warnings
from pathlib import Path

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

import sklearn_bernoulli_mix._cli as cli
from sklearn_bernoulli_mix import FixedComponentMixture, __version__
from sklearn_bernoulli_mix._cli import CommandLineError, main, read_table, run_demo

ROOT = Path(__file__).resolve().parents[1]
PROG = "sklearn-bernoulli-mix"

NUMBER = r"([0-9]*\.?[0-9]+(?:[eE][+-]?[0-9]+)?|nan)"


def closed_form_weight(r, p1=0.8, p2=0.3):
    return float(np.clip((r - p2) / (p1 - p2), 0, 1))


def parse_counts(text):
    found = re.search(
        r"Generated (\d+) marbles \(seed (-?\d+)\): red (\d+), blue (\d+)", text
    )
    assert found, text
    n, _, red, blue = (int(g) for g in found.groups())
    assert red + blue == n
    return red, blue


def parse_estimates(text):
    """The (weight, stderr) pairs of the 'Estimate (standard error)' block."""
    block = text.split("Estimate (standard error):", 1)[1]
    pairs = re.findall(rf"P\(c = Factory (\d+)\) = {NUMBER} \({NUMBER}\)", block)
    assert [int(k) for k, _, _ in pairs] == list(range(1, len(pairs) + 1))
    return np.array([[float(w), float(se)] for _, w, se in pairs])


def parse_posteriors(text):
    block = text.split("Posterior P(factory | colour):", 1)[1]
    rows = {}
    for colour in ("red", "blue"):
        line = re.search(rf"^\s*{colour}: (.*)$", block, re.M)
        assert line, block
        rows[colour] = np.array(
            [float(v) for v in re.findall(rf"Factory \d+: {NUMBER}", line.group(1))]
        )
    return rows


def parse_path(text):
    """(iterations, weights, gap) of every 'after t iterations' line."""
    out = []
    for t, weights, gap in re.findall(
        rf"after\s+(\d+) iterations?: P\(c\) = \[([^\]]*)\]\s+certified gap <= {NUMBER}",
        text,
    ):
        out.append(
            (int(t), np.array([float(w) for w in weights.split(",")]), float(gap))
        )
    return out


def marbles(red, blue):
    return np.array([1.0] * red + [0.0] * blue).reshape(-1, 1)


# --------------------------------------------------------------------------
# demo
# --------------------------------------------------------------------------


def test_main_without_arguments_runs_the_default_demo(capsys):
    assert main([]) == 0
    out = capsys.readouterr().out
    assert "Ground truth" in out
    assert "P(c = Factory 1) = 0.60" in out and "P(c = Factory 2) = 0.40" in out
    assert "P(x = red | c = Factory 1) = 0.80" in out
    assert "P(x = red | c = Factory 2) = 0.30" in out
    assert "Generated 1000 marbles (seed 0)" in out
    red, blue = parse_counts(out)
    est = parse_estimates(out)
    w = closed_form_weight(red / 1000)
    np.testing.assert_allclose(est[:, 0], [w, 1 - w], atol=6e-5)
    assert len(parse_path(out)) == 6
    posterior = parse_posteriors(out)
    assert posterior["red"].shape == (2,) and posterior["blue"].shape == (2,)
    # the default run is the same as "demo" with the default options
    assert main(["demo"]) == 0
    assert capsys.readouterr().out == out


def test_demo_output_agrees_with_closed_form(capsys):
    assert main(["demo", "--seed", "1", "--n-samples", "500"]) == 0
    out = capsys.readouterr().out
    red, blue = parse_counts(out)
    assert red + blue == 500
    r = red / 500
    assert f"observed P(x = red) = {r:.4f}" in out
    w = closed_form_weight(r)
    se = np.sqrt(r * (1 - r) / 500) / 0.5
    est = parse_estimates(out)
    np.testing.assert_allclose(est[:, 0], [w, 1 - w], atol=6e-5)
    np.testing.assert_allclose(est[:, 1], [se, se], atol=6e-5)
    closed = re.search(rf"closed form: .* = {NUMBER}, standard error {NUMBER}", out)
    assert closed
    assert float(closed.group(1)) == pytest.approx(w, abs=6e-5)
    assert float(closed.group(2)) == pytest.approx(se, abs=6e-5)

    posterior = parse_posteriors(out)
    red_post = 0.8 * w / (0.8 * w + 0.3 * (1 - w))
    blue_post = 0.2 * w / (0.2 * w + 0.7 * (1 - w))
    np.testing.assert_allclose(posterior["red"], [red_post, 1 - red_post], atol=6e-5)
    np.testing.assert_allclose(posterior["blue"], [blue_post, 1 - blue_post], atol=6e-5)

    # the EM progress lines are the fits after t iterations from equal weights
    path = parse_path(out)
    assert [t for t, _, _ in path] == [1, 2, 5, 10, 20, 50]
    X = marbles(red, blue)
    f_star = r * np.log(0.3 + 0.5 * w) + (1 - r) * np.log(0.7 - 0.5 * w)
    for t, weights, gap in path:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            mix = FixedComponentMixture([[0.8], [0.3]], solver="em", max_iter=t).fit(X)
        np.testing.assert_allclose(weights, mix.weights_, atol=6e-5)
        assert gap == pytest.approx(mix.gap_bound_, rel=6e-3)
        assert f_star - mix.score(X) <= mix.gap_bound_ + 1e-15
    assert np.all(np.diff([gap for _, _, gap in path]) <= 0)
    conv = re.search(r"Converged after (\d+) iterations: certified gap " + NUMBER, out)
    assert conv and float(conv.group(2)) <= 1e-12
    # an interior estimate: the two standard errors agree, with no comment
    assert "boundary" not in out


@pytest.mark.parametrize("n_samples", [7, 137, 5000])
@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_run_demo_returns_mixture_matching_closed_form(n_samples, seed):
    out = io.StringIO()
    mix = run_demo(n_samples=n_samples, seed=seed, out=out)
    red, blue = parse_counts(out.getvalue())
    r = red / n_samples
    w = closed_form_weight(r)
    assert isinstance(mix, FixedComponentMixture)
    assert mix.converged_ and mix.gap_bound_ <= 1e-12
    np.testing.assert_allclose(mix.weights_, [w, 1 - w], atol=1e-6)
    if 0.3 < r < 0.8:
        se = np.sqrt(r * (1 - r) / n_samples) / 0.5
        np.testing.assert_allclose(mix.weights_stderr_, [se, se], rtol=1e-6)
    # the printed estimate is the returned one
    est = parse_estimates(out.getvalue())
    np.testing.assert_allclose(est[:, 0], mix.weights_, atol=5.1e-5)


def test_demo_is_reproducible_given_seed(capsys):
    args = ["demo", "--seed", "7", "--n-samples", "300"]
    main(args)
    first = capsys.readouterr().out
    main(args)
    second = capsys.readouterr().out
    assert first == second
    main(["demo", "--seed", "8", "--n-samples", "300"])
    assert capsys.readouterr().out != first


@pytest.mark.parametrize(
    "proportions, p_red",
    [
        (["0.2", "0.3", "0.5"], ["0.9", "0.5", "0.1"]),
        (["0.1", "0.2", "0.3", "0.4"], ["0.95", "0.6", "0.4", "0.05"]),
        (["1"], ["0.5"]),
        (["0.5", "0.5"], ["0.3", "0.8"]),
    ],
    ids=["three", "four", "one", "swapped"],
)
def test_demo_any_number_of_factories(capsys, proportions, p_red):
    k = len(proportions)
    argv = ["demo", "--seed", "3", "--n-samples", "400", "--proportions", *proportions]
    assert main([*argv, "--p-red", *p_red]) == 0
    out = capsys.readouterr().out
    assert f"P(c = Factory {k})" in out and f"P(c = Factory {k + 1})" not in out
    red, blue = parse_counts(out)
    r = red / 400
    est = parse_estimates(out)
    assert est.shape == (k, 2)
    weights = est[:, 0]
    assert weights.sum() == pytest.approx(1, abs=k * 5e-5)
    p = np.array([float(v) for v in p_red])
    # with one colour, the fitted red rate is the observed one (when reachable)
    assert weights @ p == pytest.approx(np.clip(r, p.min(), p.max()), abs=1e-3)
    if k > 2:
        assert "not identifiable" in out
        assert np.all(np.isnan(est[:, 1]))
    if k == 1:
        np.testing.assert_allclose(est, [[1.0, 0.0]])
    if k == 2:
        w2 = closed_form_weight(r, p[1], p[0])  # P(factory 2)
        np.testing.assert_allclose(weights, [1 - w2, w2], atol=6e-5)
    posterior = parse_posteriors(out)
    for row in posterior.values():
        assert row.shape == (k,)
        assert row.sum() == pytest.approx(1, abs=k * 5e-5)


def test_demo_with_a_colour_no_factory_makes(capsys):
    # A single factory that only makes red marbles: a valid experiment. The
    # posterior of a blue marble is undefined, but the demo should still
    # report the estimate rather than crash with a traceback.
    assert (
        main(["demo", "--n-samples", "20", "--proportions", "1", "--p-red", "1"]) == 0
    )
    out = capsys.readouterr().out
    np.testing.assert_allclose(parse_estimates(out)[:, 0], [1.0])
    assert "Posterior P(factory | colour):" in out


def error_line(capsys, argv):
    """Run the command line; check it failed with one error line; return it."""
    try:
        status = main(argv, prog=PROG)
    except SystemExit as exc:  # argument errors exit through argparse
        status = exc.code
    captured = capsys.readouterr()
    assert status == 2, captured
    assert captured.out == ""
    lines = captured.err.splitlines()
    assert len(lines) == 1, captured.err
    assert re.match(rf"{PROG}( [a-z-]+)?: error: \S", lines[0]), lines[0]
    assert "Traceback" not in captured.err
    return lines[0]


def test_demo_reports_non_convergence_truthfully():
    # The maximum is on the boundary (P(Factory 2) = 0): EM never reaches the
    # target gap, so the demo must not say it converged.
    out = io.StringIO()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # nothing escapes as a Python warning
        mix = run_demo(proportions=(1, 0), out=out)
    text = out.getvalue()
    assert not mix.converged_
    assert "Converged" not in text
    found = re.search(
        rf"Not converged after (\d+) iterations: certified gap {NUMBER} per marble, "
        r"above the target 1e-12",
        text,
    )
    assert found, text
    assert int(found.group(1)) == mix.n_iter_ == 100_000
    gap = float(found.group(2))
    assert gap > 1e-12 and gap == pytest.approx(mix.gap_bound_, rel=0.1)
    # the reported gap bounds the true one: the maximum is at w = (1, 0)
    red, blue = parse_counts(text)
    r = red / (red + blue)
    f_star = r * np.log(0.8) + (1 - r) * np.log(0.2)
    assert 0 <= f_star - mix.lower_bound_ <= mix.gap_bound_ + 1e-15
    assert "boundary of the simplex, P(c = Factory 2) = 0" in text


def test_demo_converged_message_only_when_converged():
    out = io.StringIO()
    mix = run_demo(n_samples=200, seed=4, out=out)
    assert mix.converged_ and mix.gap_bound_ <= 1e-12
    text = out.getvalue()
    assert re.search(rf"Converged after {mix.n_iter_} iterations: certified gap ", text)
    assert "Not converged" not in text


def observed_information_stderr(n, r, q, p1, p2):
    """Wald standard error of w at fitted red rate q, observed rate r."""
    information = n * (p1 - p2) ** 2 * (r / q**2 + (1 - r) / (1 - q) ** 2)
    return 1 / np.sqrt(information)


def test_demo_explains_the_standard_errors_at_the_boundary(capsys):
    argv = ["demo", "--proportions", "0.1", "0.9", "--n-samples", "20", "--seed", "2"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    red, blue = parse_counts(out)
    r = red / 20
    unclipped = (r - 0.3) / 0.5
    assert unclipped < 0  # this bag is below the 30% factory's red rate
    est = parse_estimates(out)
    np.testing.assert_allclose(est[:, 0], [0, 1], atol=6e-5)
    # the estimator's error: observed information at the fitted rate 0.3;
    # the closed form's: the binomial error at the observed rate
    wald = observed_information_stderr(20, r, 0.3, 0.8, 0.3)
    binomial = np.sqrt(r * (1 - r) / 20) / 0.5
    assert abs(wald - binomial) > 1e-3
    np.testing.assert_allclose(est[:, 1], [wald, wald], atol=6e-5)
    closed = re.search(rf"closed form: .* = {NUMBER}, standard error {NUMBER}", out)
    assert float(closed.group(2)) == pytest.approx(binomial, abs=6e-5)
    note = re.search(
        rf"on the boundary: the unclipped value (-[0-9.]+) is outside \[0, 1\], so the "
        rf"fitted red rate is {NUMBER}, not the observed {NUMBER};",
        out,
    )
    assert note, out
    assert float(note.group(1)) == pytest.approx(unclipped, abs=6e-5)
    assert float(note.group(2)) == pytest.approx(0.3)
    assert float(note.group(3)) == pytest.approx(r)
    assert "observed information" in out


def test_demo_stops_the_progress_rows_once_converged(capsys):
    assert main(["demo", "--p-red", "0.5", "0.5"]) == 0
    out = capsys.readouterr().out
    path = parse_path(out)
    assert [t for t, _, _ in path] == [1]
    assert "after   1 iteration: " in out and "(converged)" in out
    # a run that needs more iterations prints every row, none converged
    # before the last one shown
    assert main(["demo"]) == 0
    out = capsys.readouterr().out
    path = parse_path(out)
    assert [t for t, _, _ in path] == [1, 2, 5, 10, 20, 50]
    assert all(gap > 1e-12 for _, _, gap in path)
    assert "(converged)" not in out


@pytest.mark.parametrize(
    "argv, message",
    [
        (
            ["demo", "--proportions", "0.5", "--p-red", "0.8", "0.3"],
            "--proportions has 1",
        ),
        (["demo", "--proportions", "0.7", "0.7"], "sum to 1"),
        (["demo", "--proportions", "-0.2", "1.2"], "'-0.2' is not a probability"),
        (["demo", "--p-red", "1.5", "0.3"], r"'1.5' is not a probability"),
        (["demo", "--p-red", "nan", "0.2"], "'nan' is not a finite number"),
        (["demo", "--proportions", "inf", "0"], "'inf' is not a finite number"),
        (["demo", "--n-samples", "0"], "at least 1"),
        (["demo", "--seed", "-1"], "'-1' is not a seed"),
        (["demo", "--n-samples", "many"], "invalid int value"),
        (["demo", "--p-red", "red", "blue"], "invalid float value"),
        (["frobnicate"], "invalid choice"),
        (["fit-csv"], "required"),
        (["demo", "--colour", "red"], "unrecognized arguments"),
        (["fit-csv", "a.csv", "b.csv", "--solver", "newton"], "invalid choice"),
        (["fit-csv", "a.csv", "b.csv", "--tol", "0"], "'0' is not a positive"),
        (["fit-csv", "a.csv", "b.csv", "--max-iter", "0"], "at least 1"),
    ],
)
def test_bad_options_fail_with_one_line_before_any_output(capsys, argv, message):
    line = error_line(capsys, argv)
    assert re.search(message, line), line


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"p_red": (float("nan"), 0.2)}, "finite"),
        ({"seed": -1}, "--seed"),
        ({"proportions": (0.5, 0.6)}, "sum to 1"),
    ],
)
def test_run_demo_rejects_bad_values_before_output(kwargs, message):
    out = io.StringIO()
    with pytest.raises(CommandLineError, match=message):
        run_demo(out=out, **kwargs)
    assert out.getvalue() == ""


def help_text(capsys, argv):
    with pytest.raises(SystemExit) as exc:
        main([*argv, "--help"], prog=PROG)
    assert exc.value.code == 0
    return " ".join(capsys.readouterr().out.split())


@pytest.mark.parametrize(
    "command, options",
    [
        (
            "demo",
            {
                "--n-samples": "1000",
                "--proportions": r"\[0.6, 0.4\]",
                "--p-red": r"\[0.8, 0.3\]",
                "--seed": "0",
            },
        ),
        (
            "fit-csv",
            {
                "--output": "not written",
                "--solver": "sqp",
                "--tol": "1e-10",
                "--max-iter": "100000",
            },
        ),
    ],
)
def test_help_describes_every_option_with_its_default(capsys, command, options):
    text = help_text(capsys, [command])
    assert text.startswith(f"usage: {PROG} {command} ")
    body = text.split("options:", 1)[1]
    for option, default in options.items():
        # the option's own entry: from its name to the next option
        entry = re.search(rf" {option}( [A-Z{{][^ ]*)* (.*?)(?= --[a-z]|$)", body)
        assert entry, (option, body)
        described = entry.group(2)
        assert len(described.split()) >= 3, (option, described)
        assert re.search(rf"\(default: {default}\)", described), (option, described)


def test_version(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0
    assert capsys.readouterr().out.strip() == __version__


# --------------------------------------------------------------------------
# the program name, the installed script and lazy imports
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "argv0, prog",
    [
        ("/usr/local/bin/sklearn-bernoulli-mix", "sklearn-bernoulli-mix"),
        (r"C:\env\Scripts\sklearn-bernoulli-mix.exe", "sklearn-bernoulli-mix"),
        ("/home/me/bin/bmix", "bmix"),
        ("/site-packages/sklearn_bernoulli_mix/__main__.py", "sklearn-bernoulli-mix"),
        ("", "sklearn-bernoulli-mix"),
    ],
)
def test_default_prog_is_the_name_invoked(argv0, prog):
    assert cli.default_prog(argv0.replace("\\", os.sep)) == prog


def run_python(args, **kwargs):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        **kwargs,
    )


def test_usage_names_the_installed_script_and_the_module(tmp_path):
    tomllib = pytest.importorskip("tomllib")
    with open(ROOT / "pyproject.toml", "rb") as handle:
        scripts = tomllib.load(handle)["project"]["scripts"]
    module, function = scripts["sklearn-bernoulli-mix"].split(":")
    # what pip's console-script wrapper does
    script = tmp_path / "sklearn-bernoulli-mix"
    script.write_text(
        f"import sys\nfrom {module} import {function}\nsys.exit({function}())\n"
    )
    done = run_python([str(script), "demo", "--help"])
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("usage: sklearn-bernoulli-mix demo ")
    done = run_python([str(script), "demo", "--seed", "-1"])
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.startswith("sklearn-bernoulli-mix demo: error: ")
    assert len(done.stderr.splitlines()) == 1

    done = run_python(["-m", "sklearn_bernoulli_mix", "--help"])
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("usage: python -m sklearn_bernoulli_mix ")


def test_command_line_module_imports_numpy_and_sklearn_only_when_fitting():
    # Load the command-line module on its own (not through the package, whose
    # __init__ imports the estimators) and run what must stay fast.
    probe = f"""
import importlib.util, sys
spec = importlib.util.spec_from_file_location("cli_alone", {str(ROOT / "src" / "sklearn_bernoulli_mix" / "_cli.py")!r})
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
for argv in (["--help"], ["demo", "--help"], ["fit-csv", "--help"], ["demo", "--seed", "-1"]):
    try:
        module.main(argv, prog="probe")
    except SystemExit:
        pass
print("LOADED", sorted(m for m in ("numpy", "scipy", "sklearn") if m in sys.modules))
"""
    done = run_python(["-c", probe])
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == "LOADED []"


# --------------------------------------------------------------------------
# fit-csv
# --------------------------------------------------------------------------


def write_csv(path, rows, header=None):
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        if header:
            writer.writerow(header)
        writer.writerows(rows)
    return str(path)


def write_text(path, text, encoding="utf-8"):
    Path(path).write_bytes(text.encode(encoding))
    return str(path)


def read_weights(text):
    lines = text.strip().splitlines()
    assert lines[0] == "component,weight,stderr"
    table = []
    for k, line in enumerate(lines[1:]):
        if line.startswith("posteriors of"):
            break
        idx, w, se = line.split(",")
        assert int(idx) == k
        table.append([float(w), float(se)])
    return np.array(table)


@pytest.fixture
def binary_data():
    rng = np.random.default_rng(21)
    probs = np.array([[0.9, 0.8, 0.2], [0.2, 0.3, 0.7], [0.5, 0.9, 0.9]])
    z = rng.choice(3, 400, p=[0.5, 0.3, 0.2])
    X = (rng.random((400, 3)) < probs[z]).astype(int)
    return X, probs


def reference_weights(X, probs, n_iter=20_000):
    """Maximum-likelihood weights by plain EM, written here (NaN = missing)."""
    X = np.asarray(X, dtype=float)
    observed = ~np.isnan(X)
    x = np.where(observed, X, 0)
    log_lik = (x * observed) @ np.log(probs).T + ((1 - x) * observed) @ np.log(
        1 - probs
    ).T
    lik = np.exp(log_lik - log_lik.max(axis=1, keepdims=True))
    w = np.full(probs.shape[0], 1 / probs.shape[0])
    for _ in range(n_iter):
        resp = lik * w
        resp /= resp.sum(axis=1, keepdims=True)
        w = resp.mean(axis=0)
    return w, lik * w / (lik @ w)[:, None]


def test_fit_csv_writes_weights_and_posteriors(tmp_path, capsys, binary_data):
    X, probs = binary_data
    data = write_csv(tmp_path / "data.csv", X.tolist(), header=["a", "b", "c"])
    comps = write_csv(tmp_path / "components.csv", probs.tolist())
    output = tmp_path / "posterior.csv"
    assert main(["fit-csv", data, comps, "--output", str(output)]) == 0
    out = capsys.readouterr().out
    table = read_weights(out)
    assert f"posteriors of 400 rows written to {output}" in out

    w, posterior_ref = reference_weights(X, probs)
    np.testing.assert_allclose(table[:, 0], w, atol=1e-7)
    ref = FixedComponentMixture(probs, tol=1e-12, max_iter=100_000).fit(X)
    np.testing.assert_allclose(table[:, 1], ref.weights_stderr_, rtol=1e-6)

    with open(output, newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["p_component_0", "p_component_1", "p_component_2"]
    posterior = np.array(rows[1:], dtype=float)
    assert posterior.shape == (400, 3)
    np.testing.assert_allclose(posterior.sum(axis=1), 1, atol=1e-9)
    np.testing.assert_allclose(posterior, posterior_ref, atol=1e-6)
    # the output file is created with the usual permissions, and no
    # temporary file is left beside it
    umask = os.umask(0)
    os.umask(umask)
    assert os.stat(output).st_mode & 0o777 == 0o666 & ~umask
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "components.csv",
        "data.csv",
        "posterior.csv",
    ]


def marble_files(tmp_path, red=61, blue=39):
    X = marbles(red, blue)
    data = write_csv(tmp_path / "bag.csv", X.astype(int).tolist(), header=["red"])
    comps = write_csv(tmp_path / "factories.csv", [[0.8], [0.3]], header=["red"])
    return data, comps


@pytest.mark.parametrize("solver", ["sqp", "squarem", "em"])
def test_fit_csv_marbles_closed_form(tmp_path, capsys, solver):
    data, comps = marble_files(tmp_path)
    assert main(["fit-csv", data, comps, "--solver", solver, "--tol", "1e-13"]) == 0
    captured = capsys.readouterr()
    assert captured.err == ""
    table = read_weights(captured.out)
    r = 0.61
    w = closed_form_weight(r)
    se = np.sqrt(r * (1 - r) / 100) / 0.5
    np.testing.assert_allclose(table[:, 0], [w, 1 - w], atol=1e-6)
    np.testing.assert_allclose(table[:, 1], [se, se], rtol=1e-5)
    assert "written" not in captured.out
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bag.csv", "factories.csv"]


def test_fit_csv_max_iter_and_tol_reach_the_solver(tmp_path, capsys):
    data, comps = marble_files(tmp_path)
    argv = ["fit-csv", data, comps, "--solver", "em", "--max-iter", "3"]
    assert main(argv, prog=PROG) == 0
    captured = capsys.readouterr()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ref = FixedComponentMixture([[0.8], [0.3]], solver="em", max_iter=3).fit(
            marbles(61, 39)
        )
    np.testing.assert_allclose(
        read_weights(captured.out)[:, 0], ref.weights_, atol=1e-9
    )
    note = captured.err.splitlines()
    assert len(note) == 1
    assert note[0].startswith(f"{PROG}: warning: not converged: the solver stopped ")
    assert f"certified gap {ref.gap_bound_:.1e}" in note[0]
    # a loose tolerance stops EM early, silently, within that tolerance
    argv = ["fit-csv", data, comps, "--solver", "em", "--tol", "1e-3"]
    assert main(argv) == 0
    captured = capsys.readouterr()
    assert captured.err == ""
    w = read_weights(captured.out)[0, 0]
    r = 0.61
    f = lambda w: r * np.log(0.3 + 0.5 * w) + (1 - r) * np.log(0.7 - 0.5 * w)  # noqa: E731
    gap = f(closed_form_weight(r)) - f(w)
    assert 0 < gap <= 1e-3


def test_fit_csv_matches_columns_by_header_name(tmp_path, capsys, binary_data):
    X, probs = binary_data
    data = write_csv(tmp_path / "data.csv", X.tolist(), header=["q1", "q2", "q3"])
    # the same components, columns written in another order
    comps = write_csv(
        tmp_path / "components.csv", probs[:, ::-1].tolist(), header=["q3", "q2", "q1"]
    )
    assert main(["fit-csv", data, comps]) == 0
    weights = read_weights(capsys.readouterr().out)[:, 0]
    np.testing.assert_allclose(weights, reference_weights(X, probs)[0], atol=1e-7)
    # matching by position would have given another answer
    by_position = reference_weights(X, probs[:, ::-1])[0]
    assert np.abs(weights - by_position).max() > 0.05


def test_fit_csv_header_names_that_disagree_are_an_error(tmp_path, capsys):
    data = write_csv(tmp_path / "data.csv", [[1, 0, 1]], header=["q1", "q2", "q3"])
    comps = write_csv(
        tmp_path / "components.csv", [[0.2, 0.3, 0.4]], header=["q1", "q2", "q4"]
    )
    line = error_line(capsys, ["fit-csv", data, comps])
    assert "column names of the two headers differ" in line
    assert f"'q3' of {data} is not in {comps}" in line
    assert f"'q4' of {comps} is not in {data}" in line


@pytest.mark.parametrize(
    "data_text, comps_text, message",
    [
        # a first row with a non-number is neither a header nor data
        (
            "1,x,1\n0,1,1\n",
            "0.2,0.3,0.4\n",
            r"data.csv, line 1, column 2: 'x' is not a",
        ),
        (
            "1,0,1\n",
            "0.2,O.3,0.4\n0.5,0.5,0.5\n",
            r"comps.csv, line 1, column 2: 'O.3'",
        ),
        # a row with too few or too many fields
        (
            "a,b,c\n1,0,1\n0,1\n",
            "0.2,0.3,0.4\n",
            r"data.csv, line 3: 2 fields, but the header \(line 1\) has 3",
        ),
        (
            "1,0,1\n\n0,1,1,1\n",
            "0.2,0.3,0.4\n",
            r"data.csv, line 3: 4 fields, but line 1 has 3",
        ),
        # header only, empty files, blank files
        (
            "a,b,c\n",
            "0.2,0.3,0.4\n",
            r"data file .*data.csv has a header \(line 1\) but no rows",
        ),
        ("", "0.2,0.3,0.4\n", r"data file .*data.csv is empty"),
        ("1,0,1\n", "\n \n", r"components file .*comps.csv is empty"),
        # empty fields and text in the components, text in the data
        (
            "1,0,1\n",
            "a,b,c\n0.2,,0.4\n",
            r"comps.csv, line 2, column 2 \('b'\): missing value",
        ),
        ("1,0,1\n", "0.2,NA,0.4\n", r"comps.csv, line 1, column 2: missing value"),
        (
            "a,b,c\n1,0,1\n0,x,1\n",
            "0.2,0.3,0.4\n",
            r"data.csv, line 3, column 2 \('b'\): 'x' is not a number",
        ),
        # values: 0/1 data, probabilities in [0, 1], named by line and column
        (
            "a,b,c\n1,0,1\n0,0.5,1\n",
            "0.2,0.3,0.4\n",
            r"data.csv, line 3, column 2 \('b'\): '0.5' is not 0 or 1",
        ),
        (
            "a,b,c\n1,0,1\n2,0,1\n",
            "0.2,0.3,0.4\n",
            r"data.csv, line 3, column 1 \('a'\): '2' is not 0 or 1",
        ),
        (
            "1,0,1\n",
            "0.2,0.3,0.4\n0.5,1.5,0\n",
            r"comps.csv, line 2, column 2: '1.5' is not a probability",
        ),
        ("1,0,1\n", "0.2,0.3,nan\n", r"comps.csv, line 1, column 3: missing value"),
        (
            "1,0,1\n",
            "0.2,0.3,inf\n",
            r"comps.csv, line 1, column 3: 'inf' is not a probability",
        ),
        # the shapes of the two files
        (
            "1,0\n0,1\n",
            "0.2,0.3,0.4\n",
            r"data.csv has 2 columns but .*comps.csv has 3",
        ),
        # a row no component can produce is named by its line
        (
            "a,b\n0,1\n1,0\n0,0\n",
            "1.0,0.2\n1.0,0.6\n",
            r"data.csv, line 2 \(and 1 more row\): every component gives this row probability 0",
        ),
        # headers
        (
            "a,,c\n1,0,1\n",
            "0.2,0.3,0.4\n",
            r"data.csv, line 1, column 2: empty column name",
        ),
        (
            "a,b,a\n1,0,1\n",
            "0.2,0.3,0.4\n",
            r"data.csv, line 1: column name 'a' appears twice",
        ),
    ],
)
def test_fit_csv_bad_files_name_file_line_and_column(
    tmp_path, capsys, data_text, comps_text, message
):
    data = write_text(tmp_path / "data.csv", data_text)
    comps = write_text(tmp_path / "comps.csv", comps_text)
    output = tmp_path / "out.csv"
    line = error_line(capsys, ["fit-csv", data, comps, "--output", str(output)])
    assert re.search(message, line), line
    assert not output.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["comps.csv", "data.csv"]


def test_fit_csv_messages_speak_the_command_line_language(tmp_path, capsys):
    data = write_text(tmp_path / "data.csv", "a,b\n1,0\n0,0.5\n")
    comps = write_text(tmp_path / "comps.csv", "a,b\n0.9,0.2\n0.1,0.6\n")
    line = error_line(capsys, ["fit-csv", data, comps])
    for python_word in ("Binarizer", "Row(s)", "of X", "array-like", "sklearn."):
        assert python_word not in line


def test_fit_csv_missing_file_exits_with_message(tmp_path, capsys):
    comps = write_csv(tmp_path / "components.csv", [[0.8], [0.3]])
    missing = str(tmp_path / "no-such-file.csv")
    line = error_line(capsys, ["fit-csv", missing, comps])
    assert f"cannot read data file {missing}: No such file or directory" in line
    line = error_line(capsys, ["fit-csv", str(tmp_path), comps])
    assert f"{tmp_path} is a directory" in line


def test_read_table_reads_missing_values_as_nan(tmp_path):
    path = write_text(tmp_path / "data.csv", "a,b,c\n1,,0\nNA,1,nan\n0, NaN ,1\n")
    table = read_table(path, "data", allow_missing=True)
    assert table.header == ["a", "b", "c"]
    expected = np.array([[1, np.nan, 0], [np.nan, 1, np.nan], [0, np.nan, 1]])
    np.testing.assert_array_equal(table.values, expected)
    np.testing.assert_array_equal(table.lines, [2, 3, 4])
    assert table.values.dtype == np.float64


def test_fit_csv_says_when_missing_values_are_not_supported(
    tmp_path, capsys, monkeypatch
):
    monkeypatch.setattr(cli, "_accepts_missing", lambda estimator: False)
    data = write_text(tmp_path / "data.csv", "q1,q2\n1,0\n0,1\n1,NA\n")
    comps = write_text(tmp_path / "comps.csv", "0.9,0.2\n0.1,0.6\n")
    line = error_line(capsys, ["fit-csv", data, comps])
    assert f"{data}, line 4, column 2 ('q2'): missing value" in line
    assert "fit-csv does not support missing values yet" in line


def test_fit_csv_passes_missing_values_to_an_estimator_that_takes_them(
    tmp_path, capsys, monkeypatch
):
    seen = {}
    real_fit = FixedComponentMixture.fit

    real_predict_proba = FixedComponentMixture.predict_proba

    def fit(self, X, y=None, sample_weight=None):
        seen["X"] = X.copy()
        return real_fit(self, np.nan_to_num(X, nan=0.0))

    def predict_proba(self, X):
        return real_predict_proba(self, np.nan_to_num(X, nan=0.0))

    monkeypatch.setattr(cli, "_accepts_missing", lambda estimator: True)
    monkeypatch.setattr(FixedComponentMixture, "fit", fit)
    monkeypatch.setattr(FixedComponentMixture, "predict_proba", predict_proba)
    data = write_text(tmp_path / "data.csv", "q1,q2\n1,0\n0,1\n1,\n")
    comps = write_text(tmp_path / "comps.csv", "0.9,0.2\n0.1,0.6\n")
    assert main(["fit-csv", data, comps]) == 0
    np.testing.assert_array_equal(seen["X"], [[1, 0], [0, 1], [1, np.nan]])


def test_fit_csv_fits_missing_values_when_the_estimator_does(tmp_path, capsys):
    probs = np.array([[0.9, 0.2, 0.7], [0.1, 0.6, 0.4]])
    if not cli._accepts_missing(FixedComponentMixture(probs)):
        pytest.skip("FixedComponentMixture does not take NaN for Bernoulli yet")
    rng = np.random.default_rng(3)
    z = rng.choice(2, 300, p=[0.3, 0.7])
    X = (rng.random((300, 3)) < probs[z]).astype(float)
    X[rng.random(X.shape) < 0.2] = np.nan
    text = "\n".join(
        ",".join("" if np.isnan(v) else str(int(v)) for v in row) for row in X
    )
    data = write_text(tmp_path / "data.csv", text + "\n")
    comps = write_csv(tmp_path / "comps.csv", probs.tolist())
    assert main(["fit-csv", data, comps]) == 0
    weights = read_weights(capsys.readouterr().out)[:, 0]
    np.testing.assert_allclose(weights, reference_weights(X, probs)[0], atol=1e-6)


def test_fit_csv_reads_standard_input(tmp_path, capsys, monkeypatch, binary_data):
    X, probs = binary_data
    text = "a,b,c\n" + "\n".join(",".join(map(str, row)) for row in X) + "\n"
    monkeypatch.setattr(
        sys, "stdin", io.TextIOWrapper(io.BytesIO(text.encode()), encoding="utf-8")
    )
    comps = write_csv(tmp_path / "components.csv", probs.tolist(), header=list("abc"))
    assert main(["fit-csv", "-", comps]) == 0
    weights = read_weights(capsys.readouterr().out)[:, 0]
    np.testing.assert_allclose(weights, reference_weights(X, probs)[0], atol=1e-7)
    line = error_line(capsys, ["fit-csv", "-", "-"])
    assert "cannot both be read from standard input" in line


def test_fit_csv_names_standard_input_in_messages(capsys, monkeypatch, tmp_path):
    monkeypatch.setattr(
        sys, "stdin", io.TextIOWrapper(io.BytesIO(b"a,b\n1,0\n0,7\n"), encoding="utf-8")
    )
    comps = write_csv(tmp_path / "components.csv", [[0.9, 0.2]])
    line = error_line(capsys, ["fit-csv", "-", comps])
    assert "standard input, line 3, column 2 ('b'): '7' is not 0 or 1" in line


@pytest.mark.parametrize(
    "encoding, message",
    [
        (
            "latin-1",
            r"data.csv, line 1: byte 0xe9 is not UTF-8 text; fit-csv reads UTF-8",
        ),
        (
            "utf-16",
            r"data.csv, line 1: a UTF-16 byte-order mark, so the file is UTF-16; fit-csv "
            "reads UTF-8",
        ),
        ("utf-16-le", r"data.csv, line 1: NUL bytes, .* fit-csv reads UTF-8"),
    ],
)
def test_fit_csv_names_the_encoding_it_expects(tmp_path, capsys, encoding, message):
    data = write_text(tmp_path / "data.csv", "café\n1\n0\n", encoding=encoding)
    comps = write_csv(tmp_path / "comps.csv", [[0.8], [0.3]])
    line = error_line(capsys, ["fit-csv", data, comps])
    assert re.search(message, line), line


def test_fit_csv_reads_utf8_with_byte_order_mark_and_windows_lines(tmp_path, capsys):
    text = "café\r\n" + "1\r\n" * 61 + "0\r\n" * 39
    data = write_text(tmp_path / "data.csv", text, encoding="utf-8-sig")
    comps = write_text(tmp_path / "comps.csv", "café\n0.8\n0.3\n")
    assert main(["fit-csv", data, comps]) == 0
    weights = read_weights(capsys.readouterr().out)[:, 0]
    w = closed_form_weight(0.61)
    np.testing.assert_allclose(weights, [w, 1 - w], atol=1e-6)


# --------------------------------------------------------------------------
# fit-csv --output: nothing written unless all is written
# --------------------------------------------------------------------------


def test_fit_csv_output_in_a_missing_folder_or_a_directory(tmp_path, capsys):
    data, comps = marble_files(tmp_path)
    missing = tmp_path / "no-such-folder" / "posterior.csv"
    line = error_line(capsys, ["fit-csv", data, comps, "--output", str(missing)])
    assert f"the folder {missing.parent} does not exist" in line
    line = error_line(capsys, ["fit-csv", data, comps, "--output", str(tmp_path)])
    assert f"--output {tmp_path} is a directory" in line
    below_a_file = os.path.join(data, "posterior.csv")
    line = error_line(capsys, ["fit-csv", data, comps, "--output", below_a_file])
    assert f"cannot write --output {below_a_file}: {data} is not a folder" in line
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bag.csv", "factories.csv"]


@pytest.mark.parametrize("which", ["data", "components"])
def test_fit_csv_refuses_to_overwrite_an_input(tmp_path, capsys, which):
    data, comps = marble_files(tmp_path)
    target = data if which == "data" else comps
    before = Path(target).read_bytes()
    # the same file under another spelling
    other = os.path.join(str(tmp_path), ".", os.path.basename(target))
    line = error_line(capsys, ["fit-csv", data, comps, "--output", other])
    assert f"is the input file {target}" in line
    assert Path(target).read_bytes() == before


def test_fit_csv_full_disk_leaves_no_partial_file(tmp_path, capsys, monkeypatch):
    data, comps = marble_files(tmp_path)
    output = tmp_path / "posterior.csv"
    output.write_text("an older result\n")

    def savetxt(handle, rows, **kwargs):
        handle.write("0.5,0.5\n")
        handle.flush()
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(np, "savetxt", savetxt)
    line = error_line(capsys, ["fit-csv", data, comps, "--output", str(output)])
    assert f"cannot write --output {output}: {os.strerror(errno.ENOSPC)}" in line
    assert output.read_text() == "an older result\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "bag.csv",
        "factories.csv",
        "posterior.csv",
    ]


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX file-size limit")
def test_fit_csv_file_size_limit_leaves_no_partial_file(tmp_path, binary_data):
    resource = pytest.importorskip("resource")
    X, probs = binary_data
    data = write_csv(tmp_path / "data.csv", X.tolist())
    comps = write_csv(tmp_path / "components.csv", probs.tolist())
    output = tmp_path / "posterior.csv"

    def limit():
        resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))

    done = run_python(
        [
            "-m",
            "sklearn_bernoulli_mix",
            "fit-csv",
            data,
            comps,
            "--output",
            str(output),
        ],
        preexec_fn=limit,
    )
    assert done.returncode == 2, done
    assert done.stdout == ""
    assert done.stderr.splitlines() == [
        f"python -m sklearn_bernoulli_mix: error: cannot write --output {output}: "
        f"{os.strerror(errno.EFBIG)}; nothing was written"
    ]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["components.csv", "data.csv"]


# --------------------------------------------------------------------------
# every error: one line, status 2, no traceback
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "error",
    [
        ValueError("a message\nover two lines"),
        TypeError("a message\nover two lines"),
        OSError(errno.EIO, "a message\nover two lines"),
    ],
)
def test_unexpected_errors_are_one_line(tmp_path, capsys, monkeypatch, error):
    def fit(self, X, y=None, sample_weight=None):
        raise error

    monkeypatch.setattr(FixedComponentMixture, "fit", fit)
    data, comps = marble_files(tmp_path)
    line = error_line(capsys, ["fit-csv", data, comps])
    assert line == f"{PROG}: error: a message over two lines"


def test_keyboard_interrupt_is_not_swallowed(tmp_path, monkeypatch):
    def fit(self, X, y=None, sample_weight=None):
        raise KeyboardInterrupt

    monkeypatch.setattr(FixedComponentMixture, "fit", fit)
    data, comps = marble_files(tmp_path)
    with pytest.raises(KeyboardInterrupt):
        main(["fit-csv", data, comps])


# --------------------------------------------------------------------------
# memory
# --------------------------------------------------------------------------


def test_read_table_memory_is_a_small_multiple_of_the_array(tmp_path, monkeypatch):
    # Small blocks, so that the file is many blocks and what is kept across
    # blocks (not one block's temporaries) decides the peak.
    monkeypatch.setattr(cli, "BLOCK_BYTES", 1 << 15)
    rng = np.random.default_rng(0)
    X = (rng.random((40_000, 25)) < 0.5).astype(np.int8)
    path = tmp_path / "big.csv"
    with open(path, "w") as handle:
        handle.write(",".join(f"q{j}" for j in range(25)) + "\n")
        np.savetxt(handle, X, fmt="%d", delimiter=",")
    tracemalloc.start()
    try:
        table = read_table(str(path), "data", allow_missing=True)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    np.testing.assert_array_equal(table.values, X)
    np.testing.assert_array_equal(table.lines, np.arange(2, 40_002))
    # the float64 array, its int8 blocks, the line numbers, and one block
    assert peak < 1.5 * table.values.nbytes, peak / table.values.nbytes
