"""Training: optimizers and schedules, losses, metrics, callbacks, and the fit loop.

Exported at the top level as ``minibert.optimizers`` (with ``minibert.optimizers.schedules``),
``minibert.losses``, ``minibert.metrics`` and ``minibert.callbacks``, mirroring ``keras.*``;
tasks inherit ``Trainer`` (compile / fit / evaluate / predict). docs/training.md has the
formulas and the Keras-vs-Hugging-Face conventions.
"""
from minibert.training import callbacks, losses, metrics, optimizers, schedules
from minibert.training.trainer import Trainer

__all__ = ["Trainer", "callbacks", "losses", "metrics", "optimizers", "schedules"]
