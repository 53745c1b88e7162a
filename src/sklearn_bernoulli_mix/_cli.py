"""Command line: the marble-factory experiment, and fitting a CSV of 0/1 columns.

Only the standard library is imported at the top of this module: NumPy,
scikit-learn and the estimators are imported inside the subcommands, so
that ``--help`` and argument errors answer at once.

Every error the command line reports is one line on stderr,
``PROG: error: MESSAGE``, with exit status 2 and no traceback. Messages
about files name the file, the line of the file (counted from 1, the
header included) and the column (by its header name when there is one).
"""

import argparse
import csv
import math
import os
import sys
import tempfile
import warnings

MODULE_PROG = "python -m sklearn_bernoulli_mix"
SCRIPT_PROG = "sklearn-bernoulli-mix"

# Fields read as a missing value in a data file (compared after stripping
# white space, case-insensitively).
MISSING_TOKENS = frozenset({"", "na", "nan"})

# CSV files are read this many bytes of whole lines at a time; each block
# is converted to one NumPy array at once.
BLOCK_BYTES = 1 << 22

# Rows times columns of the temporary arrays made a block at a time.
CHUNK_FIELDS = 1 << 20

# The demo's EM runs stop at this certified gap per marble.
DEMO_TOL = 1e-12
DEMO_MAX_ITER = 100_000
DEMO_PATH = (1, 2, 5, 10, 20, 50)


class CommandLineError(Exception):
    """An error reported to the user as one line, without a traceback."""


def default_prog(argv0=None):
    """The program name for usage and error lines.

    The basename of ``sys.argv[0]`` (the installed ``sklearn-bernoulli-mix``
    script, or whatever name it was invoked under), except when that is a
    ``__main__.py`` or empty, where the fixed script name is used.
    """
    argv0 = sys.argv[0] if argv0 is None else argv0
    name = os.path.basename(argv0 or "")
    if name.lower().endswith(".exe"):
        name = name[:-4]
    if not name or name in {"-c", "-m"} or name.endswith(".py"):
        return SCRIPT_PROG
    return name


# --------------------------------------------------------------------------
# argument types: each rejects a bad value before anything is printed
# --------------------------------------------------------------------------


def _number(text):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid float value: {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"{text!r} is not a finite number")
    return value


def _probability(text):
    value = _number(text)
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a probability: give a number in [0, 1]"
        )
    return value


def _positive_number(text):
    value = _number(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive number")
    return value


def _integer(text, low, what):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid int value: {text!r}") from None
    if value < low:
        raise argparse.ArgumentTypeError(f"{text!r} is not {what}")
    return value


def _positive_int(text):
    return _integer(text, 1, "an integer of at least 1")


def _seed(text):
    return _integer(text, 0, "a seed: give an integer of at least 0")


# --------------------------------------------------------------------------
# demo
# --------------------------------------------------------------------------


def _simulate(n_samples, proportions, p_red, rng):
    factory = rng.choice(len(proportions), size=n_samples, p=proportions)
    red = (rng.random(n_samples) < p_red[factory]).astype(float)
    return red.reshape(-1, 1), factory


def _check_demo_options(proportions, p_red, n_samples, seed):
    """Raise CommandLineError for options that no experiment can have."""
    values = [*proportions, *p_red]
    if not all(math.isfinite(v) for v in values):
        raise CommandLineError(
            "--proportions and --p-red must be finite numbers (not nan or inf)."
        )
    if len(proportions) != len(p_red):
        raise CommandLineError(
            f"--proportions has {len(proportions)} values but --p-red has "
            f"{len(p_red)}: give one of each per factory."
        )
    if any(v < 0 for v in proportions) or not math.isclose(
        sum(proportions), 1, abs_tol=1e-9
    ):
        raise CommandLineError("--proportions must be non-negative and sum to 1.")
    if any(not 0 <= v <= 1 for v in p_red):
        raise CommandLineError("--p-red values must be probabilities in [0, 1].")
    if n_samples < 1:
        raise CommandLineError("--n-samples must be at least 1.")
    if seed < 0:
        raise CommandLineError("--seed must be an integer of at least 0.")


def _iterations(n):
    return "iteration" if n == 1 else "iterations"


def run_demo(
    n_samples=1000, proportions=(0.6, 0.4), p_red=(0.8, 0.3), seed=0, out=None
):
    """Reproduce the marble-factory experiment with FixedComponentMixture.

    Returns the final EM fit. Bad options raise :class:`CommandLineError`
    before anything is printed.
    """
    out = sys.stdout if out is None else out
    _check_demo_options(list(proportions), list(p_red), n_samples, seed)

    import numpy as np
    from sklearn.exceptions import ConvergenceWarning

    from ._fixed import FixedComponentMixture
    from ._validation import NonIdentifiableWarning

    proportions = np.asarray(proportions, dtype=float)
    p_red = np.asarray(p_red, dtype=float)
    n_factories = proportions.size
    rng = np.random.default_rng(seed)
    X, _ = _simulate(n_samples, proportions, p_red, rng)
    components = p_red.reshape(-1, 1)

    def fit(max_iter):
        # The text printed below says whether the run converged and why the
        # weights may have no standard error, so the warnings would only
        # repeat it in Python's words.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            warnings.simplefilter("ignore", NonIdentifiableWarning)
            return FixedComponentMixture(
                components, solver="em", max_iter=max_iter, tol=DEMO_TOL
            ).fit(X)

    def p(text):
        print(text, file=out)

    p("Ground truth")
    for k in range(n_factories):
        p(
            f"  P(c = Factory {k + 1}) = {proportions[k]:.2f}   "
            f"P(x = red | c = Factory {k + 1}) = {p_red[k]:.2f}"
        )
    n_red = int(X.sum())
    p(
        f"Generated {n_samples} marbles (seed {seed}): red {n_red}, blue "
        f"{n_samples - n_red}, observed P(x = red) = {n_red / n_samples:.4f}"
    )

    p("EM, starting from equal proportions:")
    for max_iter in DEMO_PATH:
        path = fit(max_iter)
        shown = ", ".join(f"{w:.4f}" for w in path.weights_)
        done = "   (converged)" if path.converged_ else ""
        p(
            f"  after {path.n_iter_:>3} {_iterations(path.n_iter_)}: P(c) = [{shown}]   "
            f"certified gap <= {path.gap_bound_:.2e}{done}"
        )
        if path.converged_:
            # Later rows would repeat this one.
            break
    mix = fit(DEMO_MAX_ITER)
    if mix.converged_:
        p(
            f"Converged after {mix.n_iter_} {_iterations(mix.n_iter_)}: certified gap "
            f"{mix.gap_bound_:.1e} <= {DEMO_TOL:.0e} per marble; mean "
            f"log-likelihood {mix.lower_bound_:.6f}"
        )
    else:
        p(
            f"Not converged after {mix.n_iter_} iterations: certified gap "
            f"{mix.gap_bound_:.1e} per marble, above the target {DEMO_TOL:.0e}; "
            f"mean log-likelihood {mix.lower_bound_:.6f}"
        )
        smallest = int(np.argmin(mix.weights_))
        if mix.weights_[smallest] < 1e-3:
            p(
                f"  (the maximum is on the boundary of the simplex, "
                f"P(c = Factory {smallest + 1}) = 0, which EM approaches ever "
                "more slowly; FixedComponentMixture's default solver 'sqp' "
                "reaches it exactly)"
            )
    p("Estimate (standard error):")
    for k in range(n_factories):
        p(
            f"  P(c = Factory {k + 1}) = {mix.weights_[k]:.4f} "
            f"({mix.weights_stderr_[k]:.4f})"
        )
    if np.isnan(mix.weights_stderr_).any():
        p(
            "  (not identifiable: one colour only reveals the overall red rate, which "
            "many mixtures of these factories share; the estimate is one of them and "
            "has no standard error)"
        )
    if n_factories == 2 and p_red[0] != p_red[1]:
        r = n_red / n_samples
        unclipped = (r - p_red[1]) / (p_red[0] - p_red[1])
        closed = min(max(unclipped, 0.0), 1.0)
        se = np.sqrt(r * (1 - r) / n_samples) / abs(p_red[0] - p_red[1])
        p(
            f"  closed form: clip((r - {p_red[1]}) / {p_red[0] - p_red[1]:.2f}, 0, 1) = "
            f"{closed:.4f}, standard error {se:.4f}"
        )
        if closed != unclipped:
            fitted = p_red[1] + closed * (p_red[0] - p_red[1])
            p(
                f"  (on the boundary: the unclipped value {unclipped:.4f} is outside "
                f"[0, 1], so the fitted red rate is {fitted:.4f}, not the observed "
                f"{r:.4f}; the estimator's standard error is the observed "
                "information at the fitted rate, the closed form's at the observed "
                "one, and at a boundary neither is a normal-theory error)"
            )
    p("Posterior P(factory | colour):")
    for colour, x in (("red", 1), ("blue", 0)):
        likelihood = p_red if x else 1 - p_red
        if not np.any(likelihood * mix.weights_ > 0):
            p(
                f"  {colour:>4}: impossible (no factory in the mix makes {colour} marbles)"
            )
            continue
        row = mix.predict_proba([[x]])[0]
        shown = ", ".join(f"Factory {k + 1}: {v:.4f}" for k, v in enumerate(row))
        p(f"  {colour:>4}: {shown}")
    return mix


# --------------------------------------------------------------------------
# reading CSV files
# --------------------------------------------------------------------------


class Table:
    """The numbers of a CSV file with where each row came from.

    Attributes
    ----------
    name : str
        How messages name the file (``"standard input"`` for ``-``).
    values : ndarray of shape (n_rows, n_columns)
        The numbers, float64; missing values (data files only) are NaN.
    header : list of str or None
        The column names of the header row, or None.
    lines : ndarray of shape (n_rows,)
        The line of the file each row is on, counted from 1.
    """

    def __init__(self, name, values, header, lines):
        self.name = name
        self.values = values
        self.header = header
        self.lines = lines

    def column(self, j):
        """Name column ``j`` (from 0) the way the user sees it."""
        return _column(self.header, j)

    def where(self, i, j=None):
        """Name row ``i`` (and column ``j``) as file and line."""
        text = f"{self.name}, line {int(self.lines[i])}"
        return text if j is None else f"{text}, {self.column(j)}"


def _column(header, j):
    if header is not None:
        return f"column {j + 1} ({header[j]!r})"
    return f"column {j + 1}"


def _display_name(path):
    return "standard input" if path == "-" else path


def _decode_error(name, number, raw, exc):
    return CommandLineError(
        f"{name}, line {number}: byte 0x{raw[exc.start]:02x} is not UTF-8 text; "
        "fit-csv reads UTF-8 files: save the file as UTF-8"
    )


def _blocks(handle, name):
    """Yield (number of the first line, lines as str) blocks of a binary file.

    Each block holds about ``BLOCK_BYTES`` of whole lines, checked to be
    UTF-8 text (a byte-order mark at the start is dropped).
    """
    number = 1
    while True:
        block = handle.readlines(BLOCK_BYTES)
        if not block:
            return
        if number == 1 and block[0][:2] in (b"\xff\xfe", b"\xfe\xff"):
            raise CommandLineError(
                f"{name}, line 1: a UTF-16 byte-order mark, so the file is UTF-16; "
                "fit-csv reads UTF-8 files: save the file as UTF-8"
            )
        for k, raw in enumerate(block):
            if b"\x00" in raw:
                raise CommandLineError(
                    f"{name}, line {number + k}: NUL bytes, so this is not UTF-8 "
                    "text (UTF-16?); fit-csv reads UTF-8 files: save the file as "
                    "UTF-8"
                )
        try:
            lines = [raw.decode("utf-8") for raw in block]
        except UnicodeDecodeError:
            for k, raw in enumerate(block):
                try:
                    raw.decode("utf-8")
                except UnicodeDecodeError as exc:
                    raise _decode_error(name, number + k, raw, exc) from None
        if number == 1 and lines[0].startswith("\ufeff"):
            lines[0] = lines[0][1:]
        yield number, lines
        number += len(block)


def _split(line, name, number):
    """The fields of one line of CSV."""
    try:
        rows = list(csv.reader([line]))
    except csv.Error as exc:
        raise CommandLineError(
            f"{name}, line {number}: {exc}; fit-csv reads comma-separated values, "
            "one row per line"
        ) from None
    return rows[0] if rows else [""]


def _is_missing(field):
    return field.strip().lower() in MISSING_TOKENS


def _is_number(field):
    if _is_missing(field):
        return False
    try:
        float(field)
    except ValueError:
        return False
    return True


def _read_header(line, name, number):
    """The header of a first line without numbers; None for a row of numbers."""
    row = _split(line, name, number)
    numbers = [_is_number(f) for f in row]
    texts = [not (n or _is_missing(f)) for n, f in zip(numbers, row)]
    if any(numbers) and any(texts):
        j = texts.index(True)
        raise CommandLineError(
            f"{name}, line {number}, column {j + 1}: {row[j].strip()!r} is not a "
            "number, and the row holds numbers too: a first row is either a header "
            "of names or a row of numbers"
        )
    if not any(texts):
        return None, len(row)
    header = [f.strip() for f in row]
    for j, field in enumerate(header):
        if not field:
            raise CommandLineError(
                f"{name}, line {number}, column {j + 1}: empty column name in the "
                "header"
            )
        if field in header[:j]:
            raise CommandLineError(
                f"{name}, line {number}: column name {field!r} appears twice in the "
                f"header (columns {header.index(field) + 1} and {j + 1})"
            )
    return header, len(header)


def _parse_block(lines, numbers, name, header, n_columns, origin, allow_missing):
    """Convert lines of CSV to a float64 array of shape (len(lines), n_columns)."""
    import numpy as np

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            values = np.loadtxt(
                lines,
                delimiter=",",
                dtype=np.float64,
                comments=None,
                quotechar='"',
                ndmin=2,
            )
        if values.shape == (len(lines), n_columns):
            return values
    except ValueError:
        pass
    # Slow path, for a block with missing values or a bad line: find it.
    values = np.empty((len(lines), n_columns))
    for i, line in enumerate(lines):
        row = _split(line, name, numbers[i])
        if len(row) != n_columns:
            raise CommandLineError(
                f"{name}, line {numbers[i]}: {len(row)} field"
                f"{'s' if len(row) != 1 else ''}, but {origin} has {n_columns}: "
                "every row needs one field per column (leave a field empty for a "
                "missing value)"
            )
        for j, field in enumerate(row):
            if _is_missing(field):
                if not allow_missing:
                    raise CommandLineError(
                        f"{name}, line {numbers[i]}, {_column(header, j)}: missing "
                        "value; every component needs a probability for every column"
                    )
                values[i, j] = np.nan
                continue
            try:
                values[i, j] = float(field)
            except ValueError:
                raise CommandLineError(
                    f"{name}, line {numbers[i]}, {_column(header, j)}: "
                    f"{field.strip()!r} is not a number"
                ) from None
    return values


def read_table(path, what, *, check=None, allow_missing=False, stdin=None):
    """Read a CSV file of numbers, with an optional header row, block by block.

    The first line that is not blank is a header when it holds no number,
    and the first row of numbers when it holds only numbers (and missing
    values); a first line that mixes numbers and text is an error, since it
    is neither. Blank lines are skipped. The file is read ``BLOCK_BYTES`` at
    a time; each block is converted to numbers by NumPy, checked, and kept
    as int8 (data, 0/1 with -1 for missing) or float64 (components), and the
    blocks are copied into one float64 array at the end: reading a data file
    needs about 1.2 times the memory of that array.

    Parameters
    ----------
    path : str
        The file, or ``"-"`` for standard input.
    what : {"data", "components"}
        What the file holds, for messages and for how blocks are kept.
    check : callable, default=None
        ``check(values, lines, numbers, name, header)`` run on the values of
        every block, to reject them naming the file, line and column.
    allow_missing : bool, default=False
        Whether empty fields, ``NA`` and ``nan`` are read as NaN (otherwise
        they are an error naming line and column).
    stdin : binary file, default=None
        Read instead of ``sys.stdin.buffer`` for ``"-"``.

    Returns
    -------
    table : Table
    """
    import numpy as np

    name = _display_name(path)
    if path == "-":
        handle = stdin if stdin is not None else sys.stdin.buffer
        close = False
    else:
        try:
            handle = open(path, "rb")
        except IsADirectoryError:
            raise CommandLineError(f"{name} is a directory, not a CSV file") from None
        except OSError as exc:
            raise CommandLineError(
                f"cannot read {what} file {name}: {exc.strerror}"
            ) from None
        close = True
    header, n_columns, origin, header_line = None, None, None, None
    chunks, line_chunks = [], []
    try:
        for start, lines in _blocks(handle, name):
            numbers = np.arange(start, start + len(lines))
            keep = [i for i, line in enumerate(lines) if not line.isspace()]
            if len(keep) != len(lines):
                lines = [lines[i] for i in keep]
                numbers = numbers[keep]
            if n_columns is None and lines:
                header, n_columns = _read_header(lines[0], name, numbers[0])
                if header is not None:
                    header_line = numbers[0]
                    origin = f"the header (line {header_line})"
                    lines, numbers = lines[1:], numbers[1:]
                else:
                    origin = f"line {numbers[0]}"
            if not lines:
                continue
            values = _parse_block(
                lines, numbers, name, header, n_columns, origin, allow_missing
            )
            if check is not None:
                check(values, lines, numbers, name, header)
            if what == "data":
                values = np.where(np.isnan(values), -1, values).astype(np.int8)
            chunks.append(values)
            line_chunks.append(numbers)
    finally:
        if close:
            handle.close()
    if n_columns is None:
        raise CommandLineError(
            f"{what} file {name} is empty: it needs one row per "
            f"{'sample' if what == 'data' else 'component'}"
        )
    if not chunks:
        raise CommandLineError(
            f"{what} file {name} has a header (line {header_line}) but no rows of "
            "numbers"
        )
    n_rows = sum(c.shape[0] for c in chunks)
    values = np.empty((n_rows, n_columns), dtype=np.float64)
    start = 0
    for k in range(len(chunks)):
        chunk, chunks[k] = chunks[k], None
        stop = start + chunk.shape[0]
        values[start:stop] = chunk
        if chunk.dtype == np.int8:
            values[start:stop][chunk == -1] = np.nan
        start = stop
    return Table(name, values, header, np.concatenate(line_chunks))


def _field(line, j, name, number):
    return _split(line, name, number)[j].strip()


def _check_binary(values, lines, numbers, name, header):
    import numpy as np

    bad = ~((values == 0) | (values == 1) | np.isnan(values))
    if bad.any():
        i, j = np.argwhere(bad)[0]
        raise CommandLineError(
            f"{name}, line {numbers[i]}, {_column(header, j)}: "
            f"{_field(lines[i], j, name, numbers[i])!r} is not 0 or 1; fit-csv fits "
            "0/1 data: recode the column (for example 1 above a threshold, 0 "
            "otherwise)"
        )


def _check_probabilities(values, lines, numbers, name, header):
    import numpy as np

    bad = ~((values >= 0) & (values <= 1))
    if bad.any():
        i, j = np.argwhere(bad)[0]
        if np.isnan(values[i, j]):
            raise CommandLineError(
                f"{name}, line {numbers[i]}, {_column(header, j)}: missing value; "
                "every component needs a probability for every column"
            )
        raise CommandLineError(
            f"{name}, line {numbers[i]}, {_column(header, j)}: "
            f"{_field(lines[i], j, name, numbers[i])!r} is not a probability; each "
            "row of the components file gives P(x = 1 | component) for every "
            "column, a number in [0, 1]"
        )


# --------------------------------------------------------------------------
# fit-csv
# --------------------------------------------------------------------------


def _match_columns(data, comps):
    """Put the components' columns in the data's order; check they agree."""
    import numpy as np

    probs = comps.values
    if data.header is not None and comps.header is not None:
        if data.header != comps.header:
            only_data = [c for c in data.header if c not in comps.header]
            only_comps = [c for c in comps.header if c not in data.header]
            if only_data or only_comps:
                parts = []
                if only_data:
                    parts.append(
                        f"{', '.join(map(repr, only_data))} of {data.name} "
                        f"{'is' if len(only_data) == 1 else 'are'} not in "
                        f"{comps.name}"
                    )
                if only_comps:
                    parts.append(
                        f"{', '.join(map(repr, only_comps))} of {comps.name} "
                        f"{'is' if len(only_comps) == 1 else 'are'} not in "
                        f"{data.name}"
                    )
                raise CommandLineError(
                    "the column names of the two headers differ: "
                    + "; ".join(parts)
                    + " (columns are matched by name when both files have a header)"
                )
            order = [comps.header.index(c) for c in data.header]
            probs = probs[:, order]
        return np.ascontiguousarray(probs)
    if probs.shape[1] != data.values.shape[1]:
        raise CommandLineError(
            f"{data.name} has {data.values.shape[1]} columns but {comps.name} has "
            f"{probs.shape[1]}: the components file needs one probability per data "
            "column"
        )
    return probs


def _check_explained(data, probs):
    """Name the first data row that no component can produce."""
    import numpy as np

    X = data.values
    if not ((probs == 0) | (probs == 1)).any():
        return  # every component gives every row a positive probability
    never_one = (probs == 0).T.astype(np.float64)  # (n_features, n_components)
    never_zero = (probs == 1).T.astype(np.float64)
    impossible = []
    step = max(1, CHUNK_FIELDS // max(1, X.shape[1]))
    for start in range(0, X.shape[0], step):
        chunk = X[start : start + step]
        conflicts = (chunk == 1) @ never_one + (chunk == 0) @ never_zero
        impossible.append(start + np.flatnonzero((conflicts > 0).all(axis=1)))
    impossible = np.concatenate(impossible)
    if impossible.size:
        more = impossible.size - 1
        also = f" (and {more} more row{'s' if more != 1 else ''})" if more else ""
        raise CommandLineError(
            f"{data.where(impossible[0])}{also}: every component gives this row "
            "probability 0 (a 1 where a component's probability is 0, or a 0 where "
            "it is 1): no mixture of these components can explain it"
        )


def _check_output(output, inputs):
    """Refuse an output path that cannot be written, before any work."""
    if output == "-":
        raise CommandLineError("--output needs a file name, not '-'")
    if os.path.isdir(output):
        raise CommandLineError(f"--output {output} is a directory: give a file name")
    folder = os.path.dirname(os.path.abspath(output))
    if not os.path.isdir(folder):
        problem = (
            f"{folder} is not a folder"
            if os.path.exists(folder)
            else f"the folder {folder} does not exist"
        )
        raise CommandLineError(f"cannot write --output {output}: {problem}")
    if os.path.exists(output):
        for path in inputs:
            if path != "-" and os.path.exists(path) and os.path.samefile(path, output):
                raise CommandLineError(
                    f"--output {output} is the input file {path}: writing it would "
                    "destroy the input; choose another file name"
                )


def _write_atomically(output, write):
    """Write ``output`` through a temporary file in its folder, then rename.

    On any error the temporary file is removed and ``output`` is as before.
    """
    folder = os.path.dirname(os.path.abspath(output))
    fd, tmp = tempfile.mkstemp(
        dir=folder, prefix=f".{os.path.basename(output)}.", suffix=".tmp"
    )
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            write(handle)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, output)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def _accepts_missing(estimator):
    """Whether the estimator takes NaN as a missing entry (its allow_nan tag)."""
    return bool(estimator.__sklearn_tags__().input_tags.allow_nan)


def run_fit_csv(
    data,
    components,
    output=None,
    tol=1e-10,
    max_iter=100_000,
    solver="sqp",
    out=None,
    err=None,
    prog=SCRIPT_PROG,
    stdin=None,
):
    """Fit the weights of known Bernoulli components to a CSV of 0/1 columns.

    Prints the weights with their standard errors as CSV on ``out`` (and
    writes the per-row posteriors to `output`); notes such as
    non-convergence go to ``err``. Returns the fitted mixture. Bad input
    raises :class:`CommandLineError` before anything is printed or written.
    """
    out = sys.stdout if out is None else out
    err = sys.stderr if err is None else err
    if data == "-" and components == "-":
        raise CommandLineError(
            "the data and the components cannot both be read from standard input"
        )
    if output is not None:
        _check_output(output, [data, components])

    table = read_table(
        data, "data", check=_check_binary, allow_missing=True, stdin=stdin
    )
    comps = read_table(
        components, "components", check=_check_probabilities, stdin=stdin
    )
    probs = _match_columns(table, comps)
    X = table.values

    import numpy as np
    from sklearn.exceptions import ConvergenceWarning

    from ._fixed import FixedComponentMixture
    from ._validation import NonIdentifiableWarning

    mix = FixedComponentMixture(probs, tol=tol, max_iter=max_iter, solver=solver)
    missing = np.isnan(X)
    if missing.any() and not _accepts_missing(mix):
        i, j = np.argwhere(missing)[0]
        raise CommandLineError(
            f"{table.where(i, j)}: missing value; fit-csv does not support missing "
            "values yet: remove or fill the rows that have them"
        )
    del missing
    _check_explained(table, probs)

    notes = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        mix.fit(X)
        posterior = mix.predict_proba(X)
    for warning in caught:
        if issubclass(warning.category, ConvergenceWarning):
            notes.append(
                f"not converged: the solver stopped after {mix.n_iter_} iterations "
                f"with certified gap {mix.gap_bound_:.1e} per row, above --tol "
                f"{tol:g}; raise --max-iter or --tol, or try --solver sqp"
            )
        elif issubclass(warning.category, NonIdentifiableWarning):
            notes.append(
                "the weights are not identifiable on this data: the components give "
                "(nearly) proportional likelihoods to every row, so the standard "
                "errors are undefined (nan)"
            )
        else:
            notes.append(" ".join(str(warning.message).split()))

    if output is not None:
        names = [f"p_component_{k}" for k in range(mix.n_components_)]

        def write(handle):
            handle.write(",".join(names) + "\n")
            step = max(1, CHUNK_FIELDS // mix.n_components_)
            for start in range(0, posterior.shape[0], step):
                np.savetxt(
                    handle, posterior[start : start + step], fmt="%.10g", delimiter=","
                )

        try:
            _write_atomically(output, write)
        except OSError as exc:
            raise CommandLineError(
                f"cannot write --output {output}: "
                f"{exc.strerror or exc}; nothing was written"
            ) from None

    print("component,weight,stderr", file=out)
    for k, (w, se) in enumerate(zip(mix.weights_, mix.weights_stderr_)):
        print(f"{k},{w:.10g},{se:.10g}", file=out)
    if output is not None:
        print(f"posteriors of {X.shape[0]} rows written to {output}", file=out)
    for note in notes:
        print(f"{prog}: warning: {note}", file=err)
    return mix


# --------------------------------------------------------------------------
# the parser and the entry point
# --------------------------------------------------------------------------


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line, like every other error."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


class _VersionAction(argparse.Action):
    """``--version``: print the package version (imported only when asked)."""

    def __init__(self, option_strings, dest, help=None):
        super().__init__(
            option_strings, dest, nargs=0, default=argparse.SUPPRESS, help=help
        )

    def __call__(self, parser, namespace, values, option_string=None):
        from . import __version__

        print(__version__)
        parser.exit()


def build_parser(prog=SCRIPT_PROG):
    """The argument parser of the command line, named `prog` in its usage."""
    parser = _Parser(
        prog=prog,
        description=(
            "Mixtures of Bernoulli and other known distributions. Without a "
            "command, runs the marble-factory demo."
        ),
    )
    parser.add_argument(
        "--version", action=_VersionAction, help="show the version and exit"
    )
    sub = parser.add_subparsers(dest="command", metavar="{demo,fit-csv}")
    demo = sub.add_parser(
        "demo",
        help="the marble-factory experiment (the default)",
        description=(
            "Simulate a bag of marbles from factories that make red marbles at "
            "known rates, learn each factory's share with EM, and compare with "
            "the closed form."
        ),
    )
    demo.add_argument(
        "--n-samples",
        type=_positive_int,
        default=1000,
        metavar="N",
        help="number of marbles in the bag (default: %(default)s)",
    )
    demo.add_argument(
        "--proportions",
        type=_probability,
        nargs="+",
        default=[0.6, 0.4],
        metavar="P",
        help=(
            "true P(c = factory k), one per factory, summing to 1 "
            "(default: %(default)s)"
        ),
    )
    demo.add_argument(
        "--p-red",
        type=_probability,
        nargs="+",
        default=[0.8, 0.3],
        metavar="P",
        help="P(red | factory k), one per factory (default: %(default)s)",
    )
    demo.add_argument(
        "--seed",
        type=_seed,
        default=0,
        help=(
            "seed of the random bag, an integer >= 0; the same seed gives the "
            "same bag (default: %(default)s)"
        ),
    )
    fit = sub.add_parser(
        "fit-csv",
        help="learn the weights of known Bernoulli components from a CSV",
        description=(
            "Learn the mixing weights of known Bernoulli components from a CSV "
            "of 0/1 columns, and print them with their standard errors as CSV. "
            "Files are UTF-8; a first row without numbers is a header. When both "
            "files have a header, columns are matched by name. Empty fields, NA "
            "and nan in the data are missing values."
        ),
    )
    fit.add_argument(
        "data",
        help="CSV of 0/1 columns, one row per sample ('-' reads standard input)",
    )
    fit.add_argument(
        "components",
        help=(
            "CSV of P(x_j = 1 | component k), one row per component and one "
            "column per data column ('-' reads standard input)"
        ),
    )
    fit.add_argument(
        "--output",
        metavar="FILE",
        help=(
            "write the per-row posteriors P(component k | row) there as CSV "
            "(default: not written)"
        ),
    )
    fit.add_argument(
        "--solver",
        choices=["sqp", "squarem", "em"],
        default="sqp",
        help=(
            "algorithm for the weights: mix-SQP, SQUAREM-accelerated EM, or plain "
            "EM; all stop on the same certified gap (default: %(default)s)"
        ),
    )
    fit.add_argument(
        "--tol",
        type=_positive_number,
        default=1e-10,
        help=(
            "stop once the mean log-likelihood per row is certified to be within "
            "this of its maximum (default: %(default)s)"
        ),
    )
    fit.add_argument(
        "--max-iter",
        type=_positive_int,
        default=100_000,
        metavar="N",
        help="most solver iterations (default: %(default)s)",
    )
    return parser


def main(argv=None, *, prog=None):
    """Run the command line on `argv` (default ``sys.argv[1:]``).

    Returns the exit status: 0, or 2 after printing one error line on
    stderr. Argument errors exit through argparse (usage and error lines,
    status 2); ``--help`` and ``--version`` exit with status 0.
    """
    prog = default_prog() if prog is None else prog
    parser = build_parser(prog)
    args = parser.parse_args(argv)
    try:
        if args.command == "fit-csv":
            run_fit_csv(
                args.data,
                args.components,
                output=args.output,
                tol=args.tol,
                max_iter=args.max_iter,
                solver=args.solver,
                prog=prog,
            )
        elif args.command == "demo":
            run_demo(args.n_samples, args.proportions, args.p_red, args.seed)
        else:
            run_demo()
    except BrokenPipeError:
        # The reader of our output went away (``| head``): stop quietly.
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        except (OSError, ValueError):
            pass
        return 1
    except CommandLineError as exc:
        message = str(exc)
    except MemoryError:
        message = "not enough memory"
    except OSError as exc:
        where = f"{exc.filename}: " if exc.filename else ""
        message = f"{where}{exc.strerror or exc}"
    except (ValueError, TypeError) as exc:
        message = str(exc)
    else:
        return 0
    print(f"{prog}: error: {' '.join(message.split())}", file=sys.stderr)
    return 2
