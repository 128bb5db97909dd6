"""Networks build from their configs; bad checkpoints fail with one-line ModelErrors."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from wavesmith.errors import ModelError
from wavesmith.models.checkpoint import build_model, load_checkpoint, save_checkpoint
from wavesmith.models.cnn import DigitCNN, DigitCNNConfig
from wavesmith.models.crnn import DigitCRNN, DigitCRNNConfig
from wavesmith.models.ctc import DigitCTC, DigitCTCConfig
from wavesmith.models.pool import DigitPool, DigitPoolConfig
from wavesmith.models.rnn import DigitBiLSTM, DigitBiLSTMConfig
from wavesmith.models.transformer import DigitTransformer, DigitTransformerConfig


@pytest.mark.parametrize(("cls", "cfg"), [
    (DigitCNN, DigitCNNConfig(n_mels=32, n_frames=51)), (DigitCRNN, DigitCRNNConfig(n_mels=32)),
    (DigitBiLSTM, DigitBiLSTMConfig(n_mels=32)), (DigitPool, DigitPoolConfig(n_mels=32)),
    (DigitTransformer, DigitTransformerConfig(n_mels=32, n_frames=51))])
def test_models_map_features_to_logits(cls: type, cfg: object) -> None:
    model = cls(cfg).eval()
    with torch.inference_mode():
        y = model(torch.randn(5, 32, 51))
    assert tuple(y.shape) == (5, 10) and torch.isfinite(y).all()


@pytest.mark.parametrize("frames", [1, 2, 37, 100, 101, 512])
def test_ctc_output_length_formula_matches_the_network(frames: int) -> None:
    model = DigitCTC(DigitCTCConfig(n_mels=16, channels=8, hidden=8, layers=2)).eval()
    with torch.inference_mode():
        y = model(torch.randn(2, 16, frames))
    assert tuple(y.shape) == (2, 11, int(model.output_lengths(torch.tensor([frames]))[0]))
    assert y.shape[2] == -(-frames // 2)   # ceil(frames / stride)


def test_transformer_and_ctc_reject_bad_shapes() -> None:
    with pytest.raises(ValueError, match="multiple of heads=3"):
        DigitTransformer(DigitTransformerConfig(d_model=16, heads=3))
    with pytest.raises(ValueError, match="odd"):
        DigitCTC(DigitCTCConfig(kernel=8))


def test_model_task_names_the_training_objective() -> None:
    from wavesmith.models.checkpoint import MODELS, model_task

    assert {n: model_task(n) for n in MODELS} == {
        "digit_cnn": "classify", "digit_crnn": "classify", "digit_bilstm": "classify",
        "digit_transformer": "classify", "digit_ctc": "ctc", "digit_pool": "classify"}
    with pytest.raises(ModelError, match="unknown model 'nope'"):
        model_task("nope")


def test_cnn_rejects_too_small_inputs() -> None:
    with pytest.raises(ValueError, match="too many"):
        DigitCNN(DigitCNNConfig(n_mels=4, channels=(8, 8, 8)))


def _save(path: Path, name: str = "digit_cnn") -> Path:
    model = build_model(name, {"n_mels": 16, "n_frames": 21, "channels": [4]})
    return save_checkpoint(path, model, labels=[str(i) for i in range(10)],
                           feature_params={"n_mels": 16}, train_config={}, metrics={})


def test_round_trip(tmp_path: Path) -> None:
    ck = load_checkpoint(_save(tmp_path / "m.pt"))
    assert ck.model_name == "digit_cnn" and ck.model.config.channels == (4,)


def test_bad_checkpoints_raise_model_error_naming_the_file(tmp_path: Path) -> None:
    good = _save(tmp_path / "good.pt")
    corrupt = tmp_path / "corrupt.pt"
    corrupt.write_bytes(good.read_bytes()[:500])
    garbage = tmp_path / "garbage.pt"
    garbage.write_bytes(b"not a checkpoint at all")
    raw = torch.load(good, weights_only=True)
    other = tmp_path / "other.pt"
    torch.save({**raw, "model": "resnet50"}, other)
    future = tmp_path / "future.pt"
    torch.save({**raw, "format": 99}, future)
    plain = tmp_path / "plain.pt"
    torch.save(raw["state_dict"], plain)
    cases = [(corrupt, "not a readable checkpoint"), (garbage, "not a readable checkpoint"),
             (other, "unknown model 'resnet50'"), (future, "format 99"),
             (plain, "not a wavesmith checkpoint"), (tmp_path / "none.pt", "not found")]
    for path, msg in cases:
        with pytest.raises(ModelError, match=msg) as info:
            load_checkpoint(path)
        assert str(path) in str(info.value) and "\n" not in str(info.value)
    crnn = _save(tmp_path / "crnn.pt", "digit_crnn")
    with pytest.raises(ModelError, match="is a 'digit_crnn' checkpoint, expected 'digit_cnn'"):
        load_checkpoint(crnn, expect_model="digit_cnn")
