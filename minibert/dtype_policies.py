"""dtype policies: which dtype a layer keeps its variables in, and which it computes in.

The names are Keras's: "float32" (default), "float64", "float16", "bfloat16" (variables and
computation in that dtype), and "mixed_float16" / "mixed_bfloat16" (float32 variables, half
precision computation). Softmax and layer normalization always compute in float32 (or float64
under the "float64" policy), whatever the policy says.
"""
from minibert import backend

_POLICY_NAMES = ("float32", "float64", "float16", "bfloat16", "mixed_float16", "mixed_bfloat16")


class DTypePolicy:
    """A named pair (variable_dtype, compute_dtype), as ``keras.DTypePolicy``."""

    def __init__(self, name="float32"):
        if isinstance(name, DTypePolicy):
            name = name.name
        if name not in _POLICY_NAMES:
            raise ValueError(f"dtype: expected one of {_POLICY_NAMES} or None, got {name!r}")
        self.name = name
        self.is_mixed = name.startswith("mixed_")
        compute = name[len("mixed_"):] if self.is_mixed else name
        self.compute_dtype = backend.standardize_dtype(compute)
        self.variable_dtype = backend.standardize_dtype("float32" if self.is_mixed else compute)

    @property
    def accumulation_dtype(self):
        """The dtype softmax and layer normalization compute in: float64 stays, else float32."""
        return backend.standardize_dtype("float64" if self.name == "float64" else "float32")

    def get_config(self):
        return {"module": "keras", "class_name": "DTypePolicy",
                "config": {"name": self.name}, "registered_name": None}

    def __eq__(self, other):
        return isinstance(other, DTypePolicy) and other.name == self.name

    def __repr__(self):
        return f"<DTypePolicy {self.name!r}>"


_GLOBAL_POLICY = DTypePolicy("float32")


def set_dtype_policy(policy):
    """Set the policy layers get when their ``dtype`` argument is None (Keras's global policy)."""
    global _GLOBAL_POLICY
    _GLOBAL_POLICY = DTypePolicy(policy)


def dtype_policy():
    """The global policy."""
    return _GLOBAL_POLICY


def get(dtype):
    """None -> the global policy; a name, a serialized policy dict or a DTypePolicy -> a policy."""
    if dtype is None:
        return _GLOBAL_POLICY
    if isinstance(dtype, dict):
        dtype = dtype["config"]["name"]
    return DTypePolicy(dtype)
