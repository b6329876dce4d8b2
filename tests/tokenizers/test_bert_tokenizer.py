"""BertTokenizer and DistilBertTokenizer: special tokens, their ids, and errors."""
import pytest
from reference_libraries import require

from minibert.models.bert.bert_tokenizer import BertTokenizer
from minibert.models.distil_bert.distil_bert_tokenizer import DistilBertTokenizer

SMALL = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the", "fox"]


@pytest.mark.parametrize("cls", [BertTokenizer, DistilBertTokenizer])
def test_special_tokens_and_ids(cls):
    tokenizer = cls(vocabulary=SMALL)
    assert (tokenizer.cls_token, tokenizer.sep_token, tokenizer.pad_token,
            tokenizer.mask_token) == ("[CLS]", "[SEP]", "[PAD]", "[MASK]")
    assert (tokenizer.cls_token_id, tokenizer.sep_token_id, tokenizer.pad_token_id,
            tokenizer.mask_token_id) == (2, 3, 0, 4)
    assert (tokenizer.start_token, tokenizer.start_token_id) == ("[CLS]", 2)
    assert (tokenizer.end_token, tokenizer.end_token_id) == ("[SEP]", 3)
    assert tokenizer.special_token_ids == [0, 2, 3, 4]              # [UNK] (1) is not one
    assert tokenizer.special_tokens == ["[CLS]", "[SEP]", "[PAD]", "[MASK]"]


@pytest.mark.parametrize("cls", [BertTokenizer, DistilBertTokenizer])
def test_missing_special_token_is_a_clear_error(cls):
    with pytest.raises(ValueError, match="needs the tokens '\\[MASK\\]'"):
        cls(vocabulary=[token for token in SMALL if token != "[MASK]"])


def test_bert_tokenizer_without_vocabulary_until_assets_load(tmp_path):
    tokenizer = BertTokenizer(lowercase=True)
    assert tokenizer.cls_token_id is None
    BertTokenizer(vocabulary=SMALL).save_assets(str(tmp_path))
    tokenizer.load_assets(str(tmp_path))
    assert tokenizer.cls_token_id == 2 and tokenizer("The fox") == [5, 6]


def test_distil_bert_tokenizer_needs_a_vocabulary_and_is_not_a_bert_tokenizer():
    with pytest.raises(TypeError):
        DistilBertTokenizer()
    assert not isinstance(DistilBertTokenizer(SMALL), BertTokenizer)


def test_hf_mode_maps_special_tokens_written_in_text():
    tokenizer = BertTokenizer.from_hf(SMALL, lowercase=True)
    assert tokenizer("the [MASK] [UNK] fox") == [5, 4, 1, 6]
    assert BertTokenizer(SMALL, lowercase=True)("[MASK]") == [1, 1, 1]   # [, mask, ] unknown


@pytest.mark.parametrize("lowercase", [True, False])
def test_attributes_match_keras_hub(uncased_vocabulary, lowercase):
    keras_hub = require("keras_hub")
    reference = keras_hub.models.BertTokenizer(vocabulary=uncased_vocabulary,
                                               lowercase=lowercase)
    ours = BertTokenizer(uncased_vocabulary, lowercase=lowercase)
    for attribute in ("cls_token_id", "sep_token_id", "pad_token_id", "mask_token_id",
                      "start_token_id", "end_token_id"):
        assert getattr(ours, attribute) == getattr(reference, attribute)
    assert ours.special_token_ids == sorted(reference.special_token_ids)
    assert ours.vocabulary_size() == reference.vocabulary_size()
    config, expected = ours.get_config(), reference.get_config()
    assert config.keys() == expected.keys()
    for key in ("vocabulary", "sequence_length", "lowercase", "strip_accents", "split",
                "suffix_indicator", "oov_token", "special_tokens", "special_tokens_in_strings",
                "config_file", "trainable"):
        assert config[key] == expected[key], key
    assert config["dtype"]["config"]["name"] == "int32"
