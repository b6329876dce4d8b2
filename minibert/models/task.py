"""Task: a backbone with a head (and optionally a preprocessor): BertMaskedLM, the classifiers.

A Task is called on the backbone's input dict (plus the head's own inputs) and returns logits;
``backward(dlogits)`` runs the head's backward, then the backbone's, adding into every trainable
``Variable.grad``. When every backbone weight is frozen, the backbone's backward is skipped
entirely: frozen layers cost no gradient work.
"""
from minibert.layers.layer import Layer
from minibert.models.preset_methods import PresetMethods
from minibert.training.trainer import Trainer


class Task(Trainer, PresetMethods, Layer):
    """Base class of every task model: ``compile``, ``fit``, ``evaluate``, ``predict`` and
    ``loss_and_gradients`` come from ``Trainer``.

    Class attributes set by subclasses: ``backbone_cls``, ``preprocessor_cls``.
    """

    is_model = True
    backbone_cls = None
    preprocessor_cls = None

    def __init__(self, backbone, preprocessor=None, compile=True, **kwargs):
        kwargs.setdefault("dtype", backbone.dtype_policy)
        super().__init__(**kwargs)
        self._compile_when_built = compile
        if self.backbone_cls is not None and not isinstance(backbone, self.backbone_cls):
            raise ValueError(f"backbone: {type(self).__name__} expects a "
                             f"{self.backbone_cls.__name__}, got {type(backbone).__name__}")
        self.backbone = backbone
        self.preprocessor = preprocessor

    def _finish_building(self):
        """Called by each subclass once its head exists: compile with the task's defaults,
        unless built with ``compile=False`` (KerasHub compiles every new task)."""
        if self._compile_when_built:
            self.compile()

    def _backbone_sequence(self, x, training):
        """Run the backbone on x; return its (B, T, H) sequence output."""
        outputs = self.backbone(x, training=training)
        return outputs["sequence_output"] if isinstance(outputs, dict) else outputs

    def _backbone_backward(self, d_sequence):
        """Send d sequence output (B, T, H) into the backbone, unless all of it is frozen."""
        if self.backbone.trainable_weights:
            self.backbone.backward_from_sequence(d_sequence)

    def get_config(self):
        """The head's arguments; the preset saver adds the serialized backbone and
        preprocessor, as KerasHub's task.json holds them."""
        return {"name": self.name}

    @classmethod
    def from_preset(cls, preset, load_weights=True, **kwargs):
        """Build this task from a preset (see ``Backbone.from_preset``). A preset with a saved
        task of this class restores its head; otherwise the head starts fresh, as KerasHub.
        Passing ``num_classes`` to a classifier never loads the saved head. Arguments only the
        backbone takes (``activation``, ``num_layers``, ...) raise a TypeError, as KerasHub
        does not pass them on either: build ``BertBackbone.from_preset(preset, ...)`` (or the
        preset's backbone class) and pass it as ``backbone=``."""
        from minibert.presets.loader import load_task
        return load_task(cls, preset, load_weights=load_weights, **kwargs)

    def save_to_preset(self, preset_dir, max_shard_size=10):
        """Write a KerasHub preset directory (task.json, task.weights.h5, the backbone files,
        and the preprocessor's files when there is one)."""
        from minibert.presets.saver import save_task
        save_task(self, preset_dir, max_shard_size=max_shard_size)
