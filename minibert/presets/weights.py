"""Putting arrays read from a file into a model's Variables, all checks first.

Both formats end the same way: a dict ``{variable path: numpy array}`` is matched against the
model's ``weights``. Nothing is assigned unless every variable has an array of the right
shape and no array is left over; otherwise one error lists every problem by name, with the
file, the expected shape and the one seen.
"""
import numpy as np

from minibert.presets.errors import PresetError, WeightMismatchError

_MAX_LISTED = 20


def _listing(items):
    items = list(items)
    shown = "\n  ".join(str(i) for i in items[:_MAX_LISTED])
    more = f"\n  ... and {len(items) - _MAX_LISTED} more" if len(items) > _MAX_LISTED else ""
    return f"\n  {shown}{more}"


def variables_by_path(variables):
    """{path: Variable}; two variables with one path is a bug in the model."""
    by_path = {}
    for variable in variables:
        if variable.path in by_path:
            raise PresetError(f"two weights share the path {variable.path!r}; paths must be "
                              "unique to be saved or loaded")
        by_path[variable.path] = variable
    return by_path


def check_arrays(variables, arrays, source, names=None):
    """Raise WeightMismatchError unless ``arrays`` has exactly one array of the right shape
    for each variable. ``names`` maps a variable path to how the file calls it (for
    messages)."""
    names = names or {}
    by_path = variables_by_path(variables)
    missing = [p for p in by_path if p not in arrays]
    extra = [p for p in arrays if p not in by_path]
    wrong = [(p, by_path[p].shape, tuple(np.shape(arrays[p]))) for p in arrays
             if p in by_path and tuple(np.shape(arrays[p])) != by_path[p].shape]
    problems = []
    if wrong:
        problems.append("weights of the wrong shape (weight: expected, seen):" + _listing(
            f"{p}{_in_file(names, p)}: expected {exp}, seen {seen}" for p, exp, seen in wrong))
    if missing:
        problems.append("weights missing from the file:" + _listing(
            f"{p}{_in_file(names, p)}" for p in missing))
    if extra:
        problems.append("weights in the file that the model does not have:" + _listing(
            f"{p}{_in_file(names, p)}" for p in extra))
    if problems:
        raise WeightMismatchError(f"{source}: the weights do not fit the model.\n"
                                  + "\n".join(problems))


def _in_file(names, path):
    return f" (in file: {names[path]})" if path in names else ""


def assign_arrays(variables, arrays, source, names=None):
    """Check (``check_arrays``), then assign every array to its variable."""
    check_arrays(variables, arrays, source, names)
    for path, variable in variables_by_path(variables).items():
        variable.assign(arrays[path], copy=False)      # arrays just read from the file


def task_only_variables(task):
    """The task's weights that are not the backbone's (the heads), in ``task.weights`` order."""
    backbone_ids = {id(v) for v in task.backbone.weights}
    return [v for v in task.weights if id(v) not in backbone_ids]
