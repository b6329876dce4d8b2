"""minibert: KerasHub's BERT family from scratch on NumPy (CuPy on a GPU)."""
from minibert.backend import get_backend, set_backend
from minibert.dtype_policies import set_dtype_policy

__version__ = "0.1.0"
