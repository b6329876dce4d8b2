"""Presets: built-in names, ``kaggle://`` and ``hf://`` handles, local directories; the
KerasHub (``.weights.h5``) and HF (safetensors) formats; the download cache
(``download_preset`` fills it ahead of offline use).

The model classes' ``from_preset`` / ``save_to_preset`` call ``loader`` and ``saver``;
``docs/presets.md`` describes the formats, the handles, the cache and offline use.
"""
from minibert.presets.errors import (ChecksumError, DownloadError, PresetError,
                                     PresetFileNotFoundError, PresetFormatError, PresetWarning,
                                     WeightMismatchError)
from minibert.presets.loader import (download_preset, load_backbone, load_preprocessor,
                                     load_task, load_tokenizer)
from minibert.presets.registry import builtin_presets, presets_for
from minibert.presets.saver import (save_backbone, save_preprocessor, save_task,
                                    save_tokenizer)

__all__ = [
    "load_backbone", "load_task", "load_tokenizer", "load_preprocessor",
    "save_backbone", "save_task", "save_tokenizer", "save_preprocessor",
    "download_preset", "presets_for", "builtin_presets",
    "PresetError", "PresetFormatError", "WeightMismatchError", "PresetFileNotFoundError",
    "DownloadError", "ChecksumError", "PresetWarning",
]
