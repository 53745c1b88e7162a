"""Reading order of the example gallery (a sphinx-gallery sort key)."""

# From the first idea (known components, learned weights) to the full model,
# then the applications and the solvers. Files not listed come last, by name.
ORDER = [
    "plot_marble_factories.py",
    "plot_signal_background.py",
    "plot_label_shift.py",
    "plot_solvers.py",
    "plot_digits_prototypes.py",
    "plot_model_selection.py",
    "plot_missing_survey.py",
    "plot_polytomous_items.py",
    "plot_lca_survey.py",
    "plot_out_of_core.py",
]


class ExampleOrder:
    """Sort key: the position of a file name in ``ORDER``."""

    def __init__(self, src_dir):
        self.src_dir = src_dir

    def __call__(self, filename):
        if filename in ORDER:
            return (ORDER.index(filename), filename)
        return (len(ORDER), filename)

    def __repr__(self):
        return "ExampleOrder"
