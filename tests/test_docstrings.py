"""numpydoc validation of every public docstring of the package.

The public objects are the classes and functions in
``sklearn_bernoulli_mix.__all__`` and their public methods, including the
ones inherited from the package's own base classes. Methods inherited from
scikit-learn (``get_params``, ``set_fit_request``, ...) carry scikit-learn's
docstrings and are left to it.
"""

import inspect

import pytest
from numpydoc.validate import validate

import sklearn_bernoulli_mix

PACKAGE = "sklearn_bernoulli_mix"

# numpydoc checks not applied, each with the reason. Everything else that
# numpydoc checks is enforced.
IGNORED_CHECKS = {
    "ES01": "an extended summary is not needed for short methods such as score",
    "SA01": "cross-references are added where they help, not to every method",
    "EX01": "examples live in the class docstrings, the user guide and the "
    "gallery; one per method would repeat them",
    "RT02": "scikit-learn's convention names the returned value "
    "('self : object', 'labels : ndarray ...'), which RT02 rejects",
}


def _defined_here(obj):
    return getattr(obj, "__module__", "").split(".")[0] == PACKAGE


def _class_members(cls):
    """Attributes of ``cls`` and its bases, resolved as the class resolves them."""
    members = {}
    for klass in reversed(cls.__mro__):
        members.update(vars(klass))
    return members


def _public_objects():
    """Import paths of the public classes, functions and methods."""
    names = []
    for name in sklearn_bernoulli_mix.__all__:
        obj = getattr(sklearn_bernoulli_mix, name)
        if not (inspect.isclass(obj) or inspect.isfunction(obj)):
            continue  # __version__
        names.append(f"{PACKAGE}.{name}")
        if not inspect.isclass(obj):
            continue
        for attr, member in sorted(_class_members(obj).items()):
            func = getattr(member, "__func__", member)  # static/class methods
            if attr.startswith("_") or not callable(func) or not _defined_here(func):
                continue
            names.append(f"{PACKAGE}.{name}.{attr}")
    return names


PUBLIC_OBJECTS = _public_objects()


def test_public_objects_found():
    # Guards against the collection silently finding nothing.
    assert f"{PACKAGE}.FixedComponentMixture.fit" in PUBLIC_OBJECTS
    assert f"{PACKAGE}.BernoulliMixture.predict_proba" in PUBLIC_OBJECTS
    assert f"{PACKAGE}.NonIdentifiableWarning" in PUBLIC_OBJECTS


@pytest.mark.parametrize("import_path", PUBLIC_OBJECTS)
def test_docstring(import_path):
    result = validate(import_path)
    errors = [
        f"{code}: {message}"
        for code, message in result["errors"]
        if code not in IGNORED_CHECKS
    ]
    if errors:
        listing = "\n".join(f"  {error}" for error in errors)
        pytest.fail(f"{import_path} fails numpydoc validation:\n{listing}")
