"""Defects met by a new user: validation corner cases and the documentation.

Sparse input with duplicate entries, sample weights whose sum overflows,
seeds numpy cannot take, component forms that were misread (a DataFrame, a
generator, scipy's Dirichlet), and the documentation's promises: maths that
renders offline, a truthful account of the estimator checks, no tracked file
ignored by git.
"""

import importlib.metadata
import re
import runpy
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from scipy import stats

from sklearn_bernoulli_mix import (
    BernoulliMixture,
    FixedComponentMixture,
    InvalidParameterError,
)

ROOT = Path(__file__).resolve().parents[1]

# ---------------------------------------------------------------------------
# Sparse input with duplicate entries
# ---------------------------------------------------------------------------


def _csr_with_duplicate():
    """Row 0 stores (0, 0) twice, so its value is 2; row 1 is empty (0)."""
    return sp.csr_matrix((np.ones(2), [0, 0], [0, 2, 2]), shape=(2, 1))


def test_sparse_duplicates_are_summed_before_binarize():
    X = _csr_with_duplicate()
    data_before, indices_before = X.data.copy(), X.indices.copy()
    dense = X.toarray()
    assert dense.tolist() == [[2.0], [0.0]]
    from_sparse = BernoulliMixture(n_components=1, alpha=0).fit(X)
    from_dense = BernoulliMixture(n_components=1, alpha=0).fit(dense)
    # binarize=0.0 maps the 2 to a 1: one 1 and one 0, so the ML mean is 1/2.
    np.testing.assert_allclose(from_sparse.means_, [[0.5]])
    np.testing.assert_allclose(from_dense.means_, [[0.5]])
    np.testing.assert_allclose(
        from_sparse.score_samples(X), from_dense.score_samples(dense)
    )
    np.testing.assert_allclose(from_sparse.score_samples(X), np.log([0.5, 0.5]))
    # The caller's matrix keeps its duplicates.
    np.testing.assert_array_equal(X.data, data_before)
    np.testing.assert_array_equal(X.indices, indices_before)
    assert not X.has_canonical_format


@pytest.mark.parametrize(
    "estimator",
    [
        BernoulliMixture(n_components=1, binarize=None),
        FixedComponentMixture([[0.5]]),
    ],
    ids=["BernoulliMixture(binarize=None)", "FixedComponentMixture"],
)
def test_sparse_duplicates_fail_the_binary_check_like_dense(estimator):
    X = _csr_with_duplicate()
    with pytest.raises(ValueError, match="only 0 and 1"):
        estimator.fit(X.toarray())
    with pytest.raises(ValueError, match="only 0 and 1"):
        estimator.fit(X)
    assert not X.has_canonical_format


def test_sparse_duplicates_that_stay_binary_agree_with_dense():
    # (0, 0) stored as 0.5 + 0.5 is a 1; FixedComponentMixture must see it so.
    X = sp.csr_matrix((np.array([0.5, 0.5, 1.0]), [0, 0, 0], [0, 2, 3, 3]), (3, 1))
    dense = X.toarray()
    assert dense.ravel().tolist() == [1.0, 1.0, 0.0]
    sparse_fit = FixedComponentMixture([[0.8], [0.3]]).fit(X)
    dense_fit = FixedComponentMixture([[0.8], [0.3]]).fit(dense)
    np.testing.assert_allclose(sparse_fit.weights_, dense_fit.weights_)
    # Closed form: the share of ones is 2/3 = 0.8 w + 0.3 (1 - w).
    np.testing.assert_allclose(sparse_fit.weights_[0], (2 / 3 - 0.3) / 0.5, atol=1e-6)


# ---------------------------------------------------------------------------
# Sample weights whose sum overflows
# ---------------------------------------------------------------------------

X_HALF = np.array([[0], [1]] * 50, dtype=float)

WEIGHTED = [
    pytest.param(lambda s=s: FixedComponentMixture([[0.2], [0.7]], solver=s), id=s)
    for s in ("em", "sqp", "squarem")
] + [
    pytest.param(
        lambda i=i: BernoulliMixture(n_components=2, init_params=i, random_state=0),
        id=i,
    )
    for i in ("random", "kmeans")
]


@pytest.mark.parametrize("make", WEIGHTED)
def test_overflowing_weight_sum_is_a_clear_error(make):
    weights = np.full(100, 1e307)  # each finite, the sum is not
    with pytest.raises(ValueError, match="sample_weight sums to"):
        make().fit(X_HALF, sample_weight=weights)
    assert np.all(weights == 1e307)


@pytest.mark.parametrize("make", WEIGHTED)
def test_large_finite_weights_give_the_unweighted_fit(make):
    big = make().fit(X_HALF, sample_weight=np.full(100, 1e297))
    unit = make().fit(X_HALF)
    assert np.all(np.isfinite(big.weights_))
    if isinstance(big, FixedComponentMixture):
        # Half ones: 0.5 = 0.2 w + 0.7 (1 - w) gives w = 0.4.
        np.testing.assert_allclose(big.weights_, [0.4, 0.6], atol=1e-6)
        # Standard errors shrink as 1 / sqrt(total weight).
        np.testing.assert_allclose(
            big.weights_stderr_, unit.weights_stderr_ * np.sqrt(100 / 1e299)
        )
    else:
        assert np.all(np.isfinite(big.means_))
        # The mixture's mean of the one feature is the data's, 1/2.
        np.testing.assert_allclose(big.weights_ @ big.means_[:, 0], 0.5, atol=1e-6)


# ---------------------------------------------------------------------------
# Seeds and component forms
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("seed", [-1, 2**32, 2**40])
@pytest.mark.parametrize(
    "make",
    [
        lambda seed: BernoulliMixture(n_components=2, random_state=seed),
        lambda seed: FixedComponentMixture([[0.8], [0.3]], random_state=seed),
    ],
    ids=["BernoulliMixture", "FixedComponentMixture"],
)
def test_seed_out_of_numpy_range_is_a_parameter_error(make, seed):
    with pytest.raises(InvalidParameterError, match="'random_state' parameter"):
        make(seed).fit(X_HALF)


def test_largest_seed_is_accepted():
    mix = BernoulliMixture(n_components=2, random_state=2**32 - 1).fit(X_HALF)
    np.testing.assert_allclose(mix.weights_ @ mix.means_[:, 0], 0.5, atol=1e-6)


def _dirichlet_data():
    a, b = stats.dirichlet([2.0, 3.0, 4.0]), stats.dirichlet([5.0, 2.0, 1.0])
    X = np.vstack([a.rvs(300, random_state=1), b.rvs(700, random_state=2)])
    return a, b, X


def test_dirichlet_components_read_rows_as_samples():
    a, b, X = _dirichlet_data()
    mix = FixedComponentMixture([a, b]).fit(X)
    # The same fit from the log-likelihoods computed as scipy wants them.
    log_lik = np.column_stack([a.logpdf(X.T), b.logpdf(X.T)])
    ref = FixedComponentMixture("precomputed").fit(log_lik)
    np.testing.assert_allclose(mix.weights_, ref.weights_, rtol=1e-10)
    np.testing.assert_allclose(mix.score_samples(X), ref.score_samples(log_lik))
    assert abs(mix.weights_[0] - 0.3) < 4 * mix.weights_stderr_[0]


def test_dataframe_of_probabilities_is_a_bernoulli_component_table():
    probs = np.array([[0.9, 0.8, 0.1, 0.2], [0.2, 0.3, 0.7, 0.6]])
    rng = np.random.RandomState(0)
    z = (rng.random_sample(500) < 0.7).astype(int)
    X = (rng.random_sample((500, 4)) < probs[z]).astype(float)
    frame = pd.DataFrame(probs, columns=list("abcd"))
    from_frame = FixedComponentMixture(frame).fit(X)
    from_array = FixedComponentMixture(probs).fit(X)
    np.testing.assert_allclose(from_frame.weights_, from_array.weights_)
    np.testing.assert_allclose(
        from_frame.predict_proba(X[:5]), from_array.predict_proba(X[:5])
    )
    assert from_frame.components is frame


def test_dataframe_of_non_numbers_is_rejected():
    frame = pd.DataFrame({"a": ["x", "y"]})
    with pytest.raises(TypeError, match="numeric probabilities"):
        FixedComponentMixture(frame).fit([[0], [1]])


def test_generator_of_components_is_rejected_clearly():
    def gen():
        yield stats.norm(0, 1)
        yield stats.norm(3, 1)

    with pytest.raises(TypeError, match="one-pass iterator.*list"):
        FixedComponentMixture(gen()).fit([[0.0], [3.0]])
    # The list of the same components fits.
    mix = FixedComponentMixture(list(gen())).fit([[0.0], [3.0]])
    assert mix.n_components_ == 2


# ---------------------------------------------------------------------------
# Documentation
# ---------------------------------------------------------------------------

sys.path.insert(0, str(ROOT / "docs" / "_sphinxext"))
import offline_maths  # noqa: E402

MATHS_PAGE = '<p><span class="math notranslate nohighlight">\\(x\\)</span></p>'


def _page(folder, name, body, scripts):
    tags = "".join(f'<script defer="defer" src="{s}"></script>' for s in scripts)
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"<html><head>{tags}</head><body>{body}</body></html>")


def test_offline_maths_check_flags_a_cdn(tmp_path):
    cdn = "https://cdn.jsdelivr.net/npm/mathjax@4/tex-mml-chtml.js"
    _page(tmp_path, "guide/a.html", MATHS_PAGE, [cdn])
    problems = offline_maths.offline_maths_problems(tmp_path)
    assert len(problems) == 1
    assert problems[0].startswith("guide/a.html: loads MathJax from the network")


def test_offline_maths_check_flags_a_missing_local_copy(tmp_path):
    _page(tmp_path, "a.html", MATHS_PAGE, ["_static/mathjax/tex-chtml.js?v=1"])
    assert offline_maths.offline_maths_problems(tmp_path) == [
        "a.html: has maths but loads no MathJax script from the built site"
    ]


def test_offline_maths_check_passes_a_local_copy(tmp_path):
    script = tmp_path / "_static" / "mathjax" / "tex-chtml.js"
    script.parent.mkdir(parents=True)
    script.write_text("")
    _page(tmp_path, "guide/a.html", MATHS_PAGE, ["../_static/mathjax/tex-chtml.js"])
    _page(tmp_path, "plain.html", "<p>no maths</p>", [])
    assert offline_maths.offline_maths_problems(tmp_path) == []


@pytest.fixture(scope="module")
def sphinx_conf():
    saved = list(sys.path)
    try:
        return runpy.run_path(str(ROOT / "docs" / "conf.py"))
    finally:
        sys.path[:] = saved


def test_docs_config_serves_mathjax_from_the_site(sphinx_conf):
    path = sphinx_conf["mathjax_path"]
    assert not re.match(r"^(\w+:)?//", path), path
    assert "build-finished" in (ROOT / "docs" / "conf.py").read_text()
    try:
        importlib.metadata.distribution("sphinx-mathjax-offline")
    except importlib.metadata.PackageNotFoundError:
        # Without the docs extra the pages would have no MathJax, which the
        # build-finished check turns into a failed build (tested above).
        assert sphinx_conf["html_static_path"] == []
        return
    static = [Path(p) for p in sphinx_conf["html_static_path"]]
    assert any((p / path).is_file() for p in static), static


def test_docs_config_has_no_deprecated_gallery_option(sphinx_conf):
    assert "reference_url" not in sphinx_conf["sphinx_gallery_conf"]


def test_docs_extra_brings_mathjax():
    text = (ROOT / "pyproject.toml").read_text()
    docs_extra = text.split("docs = [", 1)[1].split("]", 1)[0]
    assert "sphinx-mathjax-offline" in docs_extra


def test_gitignore_lists_no_tracked_file():
    try:
        out = subprocess.run(
            ["git", "-C", str(ROOT), "ls-files", "-ci", "--exclude-standard"],
            capture_output=True,
            text=True,
            check=True,
        )
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("not a git checkout")
    assert out.stdout.split() == []


def _expected_failures():
    sys.path.insert(0, str(ROOT / "tests"))
    try:
        import test_common
    finally:
        sys.path.pop(0)
    return test_common, {
        repr(e): test_common.expected_failed_checks(e) for e in test_common.ESTIMATORS
    }


def test_guide_lists_every_expected_failure_with_its_reason():
    guide = (ROOT / "docs" / "user_guide" / "scikit_learn.rst").read_text()
    section = guide.split(".. _expected_failures:", 1)[1].split("\nPipelines\n", 1)[0]
    section = " ".join(section.split())
    test_common, table = _expected_failures()
    names = {name for failures in table.values() for name in failures}
    for name in names:
        assert f"``{name}``" in section, name
    n_configs = len(test_common.ESTIMATORS)
    assert f"{n_configs} configurations" in section
    n_fixed_bernoulli = max(len(f) for f in table.values())
    assert f"{n_fixed_bernoulli} checks" in section


def test_readme_says_what_passes_and_links_the_failures():
    readme = (ROOT / "README.md").read_text()
    assert "pass scikit-learn's `check_estimator`," not in readme
    assert "docs/user_guide/scikit_learn.rst" in readme
    assert "expected failure" in readme
    assert "(not checked here)" not in readme
    assert "MaskedTensor" in readme


def test_guide_texts_match_the_code():
    guide = ROOT / "docs" / "user_guide"
    out_of_core = (guide / "out_of_core.rst").read_text()
    assert "sklearn-bernoulli-mix[dask]" not in out_of_core
    assert 'pip install ".[dask]"' in out_of_core
    # The docstring and the guide agree on how many forms components has.
    components = (guide / "components.rst").read_text()
    assert "in one of three forms" in components
    fixed = (ROOT / "src" / "sklearn_bernoulli_mix" / "_fixed.py").read_text()
    assert "in one of three forms" in fixed
    # Other column names at predict time raise, they do not warn.
    frame = pd.DataFrame({"q1": [0.0, 1.0], "q2": [1.0, 0.0]})
    mix = BernoulliMixture(n_components=1).fit(frame)
    with pytest.raises(ValueError, match="feature names"):
        mix.predict(frame.rename(columns={"q2": "other"}))
    assert "names raises" in (guide / "scikit_learn.rst").read_text()


def test_marble_example_names_the_solver_it_runs():
    text = (ROOT / "examples" / "plot_marble_factories.py").read_text()
    # The path is labelled EM's, so the fits that draw it must run EM (the
    # default solver is mix-SQP).
    assert "EM iteration" in text
    path_loop = text.split("for max_iter in range(", 1)[1].split(".fit(X)", 1)[0]
    assert 'solver="em"' in path_loop
    assert 'print(f"EM converged' not in text


def test_partial_fit_docs_ask_for_shuffled_batches():
    for estimator in (BernoulliMixture, FixedComponentMixture):
        doc = " ".join(estimator.partial_fit.__doc__.split())
        assert "must come in random order" in doc, estimator.__name__
        assert "converged_` is always False (stepwise EM has no stopping rule" in doc
    guide = " ".join(
        (ROOT / "docs" / "user_guide" / "out_of_core.rst").read_text().split()
    )
    assert "The batches must come in random order." in guide
    assert "``converged_`` is always False after ``partial_fit``" in guide


def test_binarize_docs_name_the_silent_default_and_the_parameter():
    doc = " ".join(BernoulliMixture.__doc__.split())
    assert "raw counts silently become" in doc
    X = np.array([[0.0, 3.0], [1.0, 0.0]])
    with pytest.raises(ValueError, match=r"binarize=<threshold>.*Binarizer"):
        BernoulliMixture(n_components=1, binarize=None).fit(X)
    with pytest.raises(ValueError, match="the first 3 at row 0, column 1"):
        BernoulliMixture(n_components=1, binarize=None).fit(X)
    with pytest.raises(ValueError, match="the first 3 at row 0, column 1"):
        BernoulliMixture(n_components=1, binarize=None).fit(sp.csr_matrix(X))
