"""``cls.presets``: the built-in preset names a class lists, as KerasHub's class property."""


class classproperty:
    """A read-only property computed on the class."""

    def __init__(self, getter):
        self.getter = getter

    def __get__(self, instance, owner):
        return self.getter(owner)


class PresetMethods:
    """Mixed into Backbone, Task, Tokenizer and Preprocessor."""

    @classproperty
    def presets(cls):
        """Dict of built-in preset name -> metadata for this class (and its subclasses)."""
        from minibert.presets.registry import presets_for
        return presets_for(cls)
