"""Tests of the command line: the marble-factory demo and fit-csv."""

import csv
import io
import re
import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

from sklearn_bernoulli_mix import FixedComponentMixture, __version__
from sklearn_bernoulli_mix.__main__ import main, run_demo

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
        rf"after\s+(\d+) iterations: P\(c\) = \[([^\]]*)\]\s+certified gap <= {NUMBER}",
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
    conv = re.search(r"Converged after (\d+) iterations \(certified gap " + NUMBER, out)
    assert conv and float(conv.group(2)) <= 1e-12


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


@pytest.mark.parametrize(
    "argv, message",
    [
        (
            ["demo", "--proportions", "0.5", "--p-red", "0.8", "0.3"],
            "--proportions has 1",
        ),
        (["demo", "--proportions", "0.7", "0.7"], "sum to 1"),
        (["demo", "--proportions", "-0.2", "1.2"], "non-negative"),
        (["demo", "--p-red", "1.5", "0.3"], r"\[0, 1\]"),
        (["demo", "--n-samples", "0"], "at least 1"),
    ],
    ids=["lengths", "sum", "negative", "p-red", "n-samples"],
)
def test_demo_bad_options_exit_with_message(capsys, argv, message):
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert isinstance(exc.value.code, str)
    assert re.search(message, exc.value.code)
    assert capsys.readouterr().out == ""


@pytest.mark.parametrize(
    "argv, message",
    [
        (["demo", "--n-samples", "many"], "invalid int value"),
        (["demo", "--p-red", "red", "blue"], "invalid float value"),
        (["frobnicate"], "invalid choice"),
        (["fit-csv"], "required"),
        (["demo", "--colour", "red"], "unrecognized arguments"),
    ],
)
def test_argparse_errors_exit_with_usage(capsys, argv, message):
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "usage:" in err and message in err


def test_version(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0
    assert capsys.readouterr().out.strip() == __version__


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


def test_fit_csv_writes_weights_and_posteriors(tmp_path, capsys, binary_data):
    X, probs = binary_data
    data = write_csv(tmp_path / "data.csv", X.tolist(), header=["a", "b", "c"])
    comps = write_csv(tmp_path / "components.csv", probs.tolist())
    output = tmp_path / "posterior.csv"
    assert main(["fit-csv", data, comps, "--output", str(output)]) == 0
    out = capsys.readouterr().out
    table = read_weights(out)
    assert f"posteriors of 400 rows written to {output}" in out

    ref = FixedComponentMixture(probs, tol=1e-12, max_iter=100_000).fit(X)
    np.testing.assert_allclose(table[:, 0], ref.weights_, atol=1e-8)
    np.testing.assert_allclose(table[:, 1], ref.weights_stderr_, rtol=1e-6)

    with open(output, newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["p_component_0", "p_component_1", "p_component_2"]
    posterior = np.array(rows[1:], dtype=float)
    assert posterior.shape == (400, 3)
    np.testing.assert_allclose(posterior.sum(axis=1), 1, atol=1e-9)
    np.testing.assert_allclose(posterior, ref.predict_proba(X), atol=1e-8)


def test_fit_csv_marbles_closed_form(tmp_path, capsys):
    X = marbles(61, 39)
    data = write_csv(tmp_path / "bag.csv", X.astype(int).tolist(), header=["red"])
    comps = write_csv(tmp_path / "factories.csv", [[0.8], [0.3]], header=["p_red"])
    assert main(["fit-csv", data, comps]) == 0
    out = capsys.readouterr().out
    table = read_weights(out)
    r = 0.61
    w = closed_form_weight(r)
    se = np.sqrt(r * (1 - r) / 100) / 0.5
    np.testing.assert_allclose(table[:, 0], [w, 1 - w], atol=1e-8)
    np.testing.assert_allclose(table[:, 1], [se, se], rtol=1e-6)
    assert "written" not in out
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bag.csv", "factories.csv"]


@pytest.mark.parametrize(
    "data_rows, comp_rows, message",
    [
        ([[1, 0], [0.5, 1]], [[0.9, 0.2], [0.1, 0.6]], "Binarizer"),
        ([[1, 0], [2, 1]], [[0.9, 0.2], [0.1, 0.6]], "only 0 and 1"),
        ([[1, 0], [0, 1]], [[0.9, 0.2, 0.3], [0.1, 0.6, 0.3]], "features"),
        ([[1, 0], [0, 1]], [[1.5, 0.2], [0.1, 0.6]], r"\[0, 1\]"),
        ([[1, 0], [0, "x"]], [[0.9, 0.2], [0.1, 0.6]], "data file"),
        ([[1, 0], [0, 1, 1]], [[0.9, 0.2], [0.1, 0.6]], "data file"),
        ([], [[0.9, 0.2], [0.1, 0.6]], "empty"),
        ([[1, 0], [0, 0]], [[1.0, 0.2], [1.0, 0.6]], "zero likelihood"),
    ],
    ids=[
        "fraction",
        "two",
        "features",
        "probability",
        "text",
        "ragged",
        "empty",
        "impossible",
    ],
)
def test_fit_csv_bad_files_exit_with_message(
    tmp_path, capsys, data_rows, comp_rows, message
):
    data = write_csv(tmp_path / "data.csv", data_rows, header=["a", "b"])
    if not data_rows:
        data = write_csv(tmp_path / "data.csv", [])
    comps = write_csv(tmp_path / "components.csv", comp_rows)
    with pytest.raises(SystemExit) as exc:
        main(["fit-csv", data, comps, "--output", str(tmp_path / "out.csv")])
    assert isinstance(exc.value.code, str)
    assert re.search(message, exc.value.code), exc.value.code
    assert not (tmp_path / "out.csv").exists()


def test_fit_csv_missing_file_exits_with_message(tmp_path, capsys):
    comps = write_csv(tmp_path / "components.csv", [[0.8], [0.3]])
    missing = str(tmp_path / "no-such-file.csv")
    with pytest.raises(SystemExit) as exc:
        main(["fit-csv", missing, comps])
    assert exc.value.code != 0
    message = (
        exc.value.code if isinstance(exc.value.code, str) else capsys.readouterr().err
    )
    assert "no-such-file.csv" in message
