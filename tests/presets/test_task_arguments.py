"""A task's from_preset refuses an argument only its backbone takes (KerasHub does not pass
them on either), with an error that shows the way: build the backbone, pass it as backbone=."""
import warnings

import pytest

from minibert.models import BertBackbone, BertMaskedLM, BertTextClassifier
from minibert.presets.errors import PresetWarning
from presets.builders import write_hf_dir

BUILT_IN = "bert_tiny_en_uncased_python_docs"


@pytest.fixture(params=["keras_hub", "hf"])
def preset(request, tmp_path):
    if request.param == "keras_hub":
        return BUILT_IN
    write_hf_dir(str(tmp_path / "hf"))
    return str(tmp_path / "hf")


def test_a_backbone_argument_to_a_task_is_a_clear_type_error(preset):
    with pytest.raises(TypeError) as error:
        BertMaskedLM.from_preset(preset, activation="gelu")
    message = str(error.value)
    assert "activation is an argument of the backbone (BertBackbone), not of the task" in message
    assert f"BertBackbone.from_preset({preset!r}, activation=...)" in message
    assert f"BertMaskedLM.from_preset({preset!r}, backbone=backbone)" in message
    with pytest.raises(TypeError, match="num_layers, vocabulary_size are arguments"):
        BertMaskedLM.from_preset(preset, vocabulary_size=10, num_layers=1)


def test_the_way_the_error_shows_works(preset):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PresetWarning)            # the unused MLM head
        backbone = BertBackbone.from_preset(preset, activation="gelu")
        masked_lm = BertMaskedLM.from_preset(preset, backbone=backbone)
    assert masked_lm.backbone is backbone and backbone.activation == "gelu"


def test_the_tasks_own_arguments_of_the_same_name_are_accepted(preset):
    """A classifier has its own ``activation`` and ``dropout``."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PresetWarning)
        classifier = BertTextClassifier.from_preset(preset, num_classes=2,
                                                    activation="softmax", dropout=0.0)
    assert classifier.activation == "softmax"
