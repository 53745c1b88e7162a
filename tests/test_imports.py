"""The package's import graph: no circle, and no package import hidden in a function."""

import ast
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
PACKAGE = next(
    p
    for p in (ROOT / "src" / "sklearn_bernoulli_mix", ROOT / "sklearn_bernoulli_mix")
    if p.is_dir()
)


def _package_imports(tree, module):
    """(target module, node) for every import of a package module in ``tree``."""
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level == 0:
                if (node.module or "").startswith("sklearn_bernoulli_mix"):
                    parts = node.module.split(".")
                    targets = parts[1:2] or [alias.name for alias in node.names]
                    for target in targets:
                        yield target, node
                continue
            if node.level == 1 and node.module:
                yield node.module.split(".")[0], node
            elif node.level == 1:
                for alias in node.names:
                    yield alias.name, node
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("sklearn_bernoulli_mix."):
                    yield alias.name.split(".")[1], node


def _graph():
    modules = {p.stem: p for p in PACKAGE.glob("*.py")}
    graph, hidden = {}, []
    for name, path in modules.items():
        tree = ast.parse(path.read_text())
        in_function = {
            id(inner)
            for outer in ast.walk(tree)
            if isinstance(outer, ast.FunctionDef | ast.AsyncFunctionDef)
            for inner in ast.walk(outer)
        }
        edges = set()
        for target, node in _package_imports(tree, name):
            if target not in modules or target == name:
                continue
            edges.add(target)
            if id(node) in in_function:
                hidden.append(f"{name} imports {target} inside a function")
        graph[name] = edges
    return graph, hidden


def _find_cycle(graph):
    state, stack = {}, []

    def visit(node):
        state[node] = "open"
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == "open":
                return stack[stack.index(nxt) :] + [nxt]
            if nxt not in state:
                found = visit(nxt)
                if found:
                    return found
        stack.pop()
        state[node] = "done"
        return None

    for node in sorted(graph):
        if node not in state:
            found = visit(node)
            if found:
                return found
    return None


def test_no_import_circle():
    graph, _ = _graph()
    # __init__ imports lazily (PEP 562): it names its modules as strings.
    assert _find_cycle(graph) is None, " -> ".join(_find_cycle(graph))


# The command line imports the estimators only in the subcommands that fit, so
# that ``--help`` answers without loading scikit-learn; no circle is involved
# (the graph above includes those imports).
LAZY_FOR_START_UP = ("_cli ",)


def test_no_package_import_hidden_in_a_function():
    _, hidden = _graph()
    hidden = [h for h in hidden if not h.startswith(LAZY_FOR_START_UP)]
    assert not hidden, hidden


def test_the_dask_module_imports_no_estimator():
    graph, _ = _graph()
    estimators = {"_bernoulli", "_categorical", "_fixed", "_learned", "_em"}
    assert not graph["_dask"] & estimators


def test_the_checker_finds_a_circle():
    assert _find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _find_cycle({"a": {"b"}, "b": set()}) is None


@pytest.mark.parametrize(
    "source, expected",
    [
        ("from ._em import x", ["_em"]),
        ("from . import _dask", ["_dask"]),
        ("from sklearn_bernoulli_mix._fixed import y", ["_fixed"]),
        ("import numpy", []),
    ],
)
def test_the_checker_reads_every_import_form(source, expected):
    found = [t for t, _ in _package_imports(ast.parse(source), "m")]
    assert found == expected
