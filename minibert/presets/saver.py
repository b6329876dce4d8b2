"""``save_to_preset``: write a KerasHub preset directory that KerasHub itself can load.

    save_backbone(backbone, preset_dir, max_shard_size=10)   config.json, metadata.json,
                                                            model.weights.h5 (or shards)
    save_task(task, preset_dir, max_shard_size=10)           + task.json, task.weights.h5,
                                                            and the preprocessor's files
    save_preprocessor(preprocessor, preset_dir)              preprocessor.json + tokenizer files
    save_tokenizer(tokenizer, preset_dir)                    tokenizer.json,
                                                            assets/tokenizer/vocabulary.txt

As in KerasHub, saving adds to (or replaces files in) ``preset_dir``: a backbone and a
tokenizer saved one after the other make one preset. Unlike a plain write, the new state is
assembled in a temporary directory beside ``preset_dir`` (a copy of the old one plus the new
files) and swapped in at the end, so an error or an interruption during the save leaves the
existing preset as it was. The backbone is sharded (``model.weights.json`` plus
``model_00000.weights.h5``, ...) when its weights exceed ``max_shard_size`` gigabytes.
"""
import contextlib
import glob
import os
import shutil
import tempfile

from minibert.presets import registry
from minibert.presets import keras_format as kf
from minibert.presets.errors import PresetError
from minibert.presets.weights import task_only_variables

#: Files at least this large are hard-linked, not copied, into the staging directory (every
#: writer here replaces a file instead of writing into it, so the link is never written
#: through).
_LINK_BYTES = 16 * 1024 * 1024


# =============================================================================== entry points
def save_backbone(backbone, preset_dir, max_shard_size=10):
    with staged_directory(preset_dir) as directory:
        write_backbone(backbone, directory, max_shard_size, where=str(preset_dir))


def save_task(task, preset_dir, max_shard_size=10):
    with staged_directory(preset_dir) as directory:
        write_task(task, directory, max_shard_size, where=str(preset_dir))


def save_preprocessor(preprocessor, preset_dir):
    with staged_directory(preset_dir) as directory:
        write_preprocessor(preprocessor, directory, where=str(preset_dir))


def save_tokenizer(tokenizer, preset_dir):
    with staged_directory(preset_dir) as directory:
        write_tokenizer(tokenizer, directory, where=str(preset_dir))


# =============================================================================== writers
def _replace(path):
    """Remove ``path`` if it exists, so the next write makes a new file (never writes through
    a hard link into the old preset)."""
    if os.path.lexists(path):
        os.remove(path)
    return path


def _write_json(directory, filename, obj):
    kf.write_json(_replace(os.path.join(directory, filename)), obj)


def write_backbone(backbone, directory, max_shard_size=10, where=""):
    _write_json(directory, kf.CONFIG_FILE, kf.serialize(backbone, f"{where}/{kf.CONFIG_FILE}"))
    _write_json(directory, kf.METADATA_FILE, kf.metadata(backbone))
    kind = registry.backbone_kind(backbone)
    layout = kf.backbone_layout(kind, int(backbone.get_config()["num_layers"]),
                                name=getattr(backbone, "name", None))
    arrays = {v.path: v.numpy() for v in backbone.weights}
    # Old weight files of either form would shadow or contradict the new ones.
    for stale in [kf.MODEL_WEIGHTS_FILE, kf.SHARDED_WEIGHTS_CONFIG_FILE] + [
            os.path.basename(p) for p in glob.glob(os.path.join(directory,
                                                                "model_*.weights.h5"))]:
        _replace(os.path.join(directory, stale))
    if max_shard_size is not None and kf.nbytes(arrays) > float(max_shard_size) * 1024 ** 3:
        kf.write_sharded_weights(directory, layout, arrays, max_shard_size)
    else:
        kf.write_weights_file(os.path.join(directory, kf.MODEL_WEIGHTS_FILE), layout, arrays)


def write_task(task, directory, max_shard_size=10, where=""):
    _write_json(directory, kf.TASK_CONFIG_FILE,
                kf.serialize(task, f"{where}/{kf.TASK_CONFIG_FILE}"))
    heads = task_only_variables(task)
    weights_path = _replace(os.path.join(directory, kf.TASK_WEIGHTS_FILE))
    if heads:
        preprocessor = getattr(task, "preprocessor", None)
        names = None
        if preprocessor is not None:
            names = (getattr(preprocessor, "name", "preprocessor"),
                     getattr(getattr(preprocessor, "tokenizer", None), "name", "tokenizer"))
        layout = kf.task_layout(registry.task_kind(task), registry.backbone_kind(task.backbone),
                                name=getattr(task, "name", None), preprocessor_names=names)
        kf.write_weights_file(weights_path, layout, {v.path: v.numpy() for v in heads},
                              optimizer=kf.FRESH_OPTIMIZER)
    write_backbone(task.backbone, directory, max_shard_size, where)
    if getattr(task, "preprocessor", None) is not None:
        write_preprocessor(task.preprocessor, directory, where)


def write_preprocessor(preprocessor, directory, where=""):
    _write_json(directory, kf.PREPROCESSOR_CONFIG_FILE,
                kf.serialize(preprocessor, f"{where}/{kf.PREPROCESSOR_CONFIG_FILE}"))
    tokenizer = getattr(preprocessor, "tokenizer", None)
    if tokenizer is not None:
        write_tokenizer(tokenizer, directory, where)


def write_tokenizer(tokenizer, directory, where=""):
    _write_json(directory, kf.TOKENIZER_CONFIG_FILE,
                kf.serialize(tokenizer, f"{where}/{kf.TOKENIZER_CONFIG_FILE}"))
    asset_dir = os.path.join(directory, *kf.TOKENIZER_ASSET_DIR.split("/"))
    if os.path.isdir(asset_dir):
        shutil.rmtree(asset_dir)                 # copies, never links: safe to drop
    os.makedirs(asset_dir)
    tokenizer.save_assets(asset_dir)
    if not os.path.isfile(os.path.join(asset_dir, kf.VOCABULARY_FILE)):
        raise PresetError(f"{type(tokenizer).__name__}.save_assets wrote no "
                          f"{kf.VOCABULARY_FILE} in {asset_dir}")


# =============================================================================== staging
def _stage_copy(source, target):
    """Copy the tree ``source`` into the empty directory ``target`` (big files hard-linked)."""
    for root, dirs, files in os.walk(source):
        relative = os.path.relpath(root, source)
        destination = os.path.join(target, relative) if relative != "." else target
        os.makedirs(destination, exist_ok=True)
        for name in files:
            src, dst = os.path.join(root, name), os.path.join(destination, name)
            if os.path.islink(src):
                os.symlink(os.readlink(src), dst)
                continue
            if os.path.getsize(src) >= _LINK_BYTES:
                try:
                    os.link(src, dst)
                    continue
                except OSError:
                    pass
            shutil.copy2(src, dst)


@contextlib.contextmanager
def staged_directory(preset_dir):
    """Yield a temporary directory holding a copy of ``preset_dir``; when the block ends
    without error, the temporary directory replaces ``preset_dir``. On error it is removed
    and ``preset_dir`` is untouched."""
    target = os.path.abspath(os.fspath(preset_dir))
    if os.path.exists(target) and not os.path.isdir(target):
        raise PresetError(f"cannot save a preset to {preset_dir!r}: it is a file")
    parent = os.path.dirname(target)
    os.makedirs(parent, exist_ok=True)
    staging = tempfile.mkdtemp(prefix=f".{os.path.basename(target)}.saving-", dir=parent)
    try:
        if os.path.isdir(target):
            _stage_copy(target, staging)
        yield staging
        _swap_in(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def _swap_in(staging, target):
    """Replace ``target`` by ``staging`` (two renames; the old tree is removed last)."""
    os.chmod(staging, 0o777 & ~_umask())
    if not os.path.isdir(target):
        os.rename(staging, target)
        return
    backup = staging + ".old"
    os.rename(target, backup)
    try:
        os.rename(staging, target)
    except BaseException:
        os.rename(backup, target)
        raise
    shutil.rmtree(backup, ignore_errors=True)


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask
