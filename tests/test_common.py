"""scikit-learn's estimator checks over several configurations of each estimator."""

import numpy as np
from scipy import stats
from sklearn.utils.estimator_checks import parametrize_with_checks

from sklearn_bernoulli_mix import (
    BernoulliMixture,
    CategoricalMixture,
    FixedComponentMixture,
)

# The one table of scikit-learn checks expected to fail, each with the reason
# why the check itself does not apply to the estimator as configured.
SPARSE_PREDICT_PROBA = (
    "check_estimator_sparse_* reads classifier tags from any estimator that has "
    "predict_proba (None for a density estimator) and fails with AttributeError; "
    "sparse input is tested in tests/test_bernoulli.py"
)
RANDOM_INIT_WEIGHTS = (
    "the initialisation draws at random from n_samples rows, so repeated rows and "
    "integer weights start EM from different points; the equivalence holds for a "
    "given means_init/weights_init and is tested in tests/test_bernoulli.py"
)
BINARY_ONE_FEATURE = (
    "the check feeds continuous, multi-feature data, but Bernoulli components "
    "[[0.8], [0.3]] define a likelihood only for 0/1 rows of one feature and the "
    "estimator rightly rejects anything else; the same behaviour is tested on "
    "binary data in tests/test_fixed.py"
)

# Checks that a one-feature Bernoulli FixedComponentMixture cannot run because
# they fit on continuous multi-feature data.
_CONTINUOUS_DATA_CHECKS = [
    "check_fit_score_takes_y",
    "check_estimators_overwrite_params",
    "check_dont_overwrite_parameters",
    "check_estimators_fit_returns_self",
    "check_readonly_memmap_input",
    "check_n_features_in_after_fitting",
    "check_positive_only_tag_during_fit",
    "check_estimators_dtypes",
    "check_sample_weights_pandas_series",
    "check_sample_weights_not_an_array",
    "check_sample_weights_list",
    "check_all_zero_sample_weights_error",
    "check_sample_weights_shape",
    "check_sample_weights_not_overwritten",
    "check_sample_weight_equivalence_on_dense_data",
    "check_sample_weight_equivalence_on_sparse_data",
    "check_dtype_object",
    "check_pipeline_consistency",
    "check_estimators_nan_inf",
    "check_estimator_sparse_tag",
    "check_estimator_sparse_array",
    "check_estimator_sparse_matrix",
    "check_estimators_pickle",
    "check_estimators_pickle(readonly_memmap=True)",
    "check_array_api_input",
    "check_f_contiguous_array_estimator",
    "check_methods_sample_order_invariance",
    "check_methods_subset_invariance",
    "check_fit2d_1sample",
    "check_fit2d_1feature",
    "check_dict_unchanged",
    "check_fit_idempotent",
    "check_fit_check_is_fitted",
    "check_n_features_in",
    "check_fit2d_predict1d",
]


def expected_failed_checks(estimator):
    """Map check names to the reason they do not apply to ``estimator``."""
    if isinstance(estimator, FixedComponentMixture):
        if (
            isinstance(estimator.components, list)
            and np.ndim(estimator.components) == 2
        ):
            return dict.fromkeys(_CONTINUOUS_DATA_CHECKS, BINARY_ONE_FEATURE)
        return {}
    if isinstance(estimator, CategoricalMixture):
        return {"check_sample_weight_equivalence_on_dense_data": RANDOM_INIT_WEIGHTS}
    failures = {
        "check_estimator_sparse_array": SPARSE_PREDICT_PROBA,
        "check_estimator_sparse_matrix": SPARSE_PREDICT_PROBA,
    }
    if estimator.means_init is None:
        # Every init_params, "kmeans" included (its k-means++ seeding is random).
        failures["check_sample_weight_equivalence_on_dense_data"] = RANDOM_INIT_WEIGHTS
        failures["check_sample_weight_equivalence_on_sparse_data"] = RANDOM_INIT_WEIGHTS
    return failures


ESTIMATORS = [
    FixedComponentMixture([stats.norm(-1, 2), stats.norm(1, 2)]),
    FixedComponentMixture(
        [stats.norm(0, 1), stats.t(3), stats.laplace(1, 2)],
        init_params="random",
        random_state=0,
    ),
    FixedComponentMixture("precomputed"),
    FixedComponentMixture([[0.8], [0.3]]),
    BernoulliMixture(n_components=2, random_state=0),
    BernoulliMixture(n_components=2, init_params="k-means++", random_state=0),
    BernoulliMixture(n_components=2, init_params="random", n_init=2, random_state=0),
    BernoulliMixture(
        n_components=2, init_params="random_from_data", alpha=0, random_state=0
    ),
    BernoulliMixture(n_components=3, binarize=0.5, warm_start=True, random_state=1),
    CategoricalMixture(n_components=2, random_state=0),
    CategoricalMixture(n_components=2, init_params="random_params", random_state=0),
    CategoricalMixture(n_components=3, alpha=0, warm_start=True, random_state=1),
]


@parametrize_with_checks(ESTIMATORS, expected_failed_checks=expected_failed_checks)
def test_sklearn_compatible(estimator, check):
    check(estimator)
