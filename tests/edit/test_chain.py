"""Chain: order, nesting, list behaviour, and chain files (YAML and JSON)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from wavesmith import Audio
from wavesmith.edit import Chain, Fade, Gain, HighPass, Invert, Resample, ToMono, Trim
from wavesmith.errors import AudioFileError, AudioValueError

VOICE_YAML = """\
# a voice chain
effects:
  - {effect: highpass, cutoff_hz: 80}
  - effect: compressor
    threshold_db: -18
    ratio: 3
    attack_s: 0.005
    release_s: 0.12
  - effect: chain
    effects:
      - {effect: gain, gain_db: -1}
"""


def test_applies_in_order_and_nests() -> None:
    x = Audio(np.full((2, 2_000), 0.5, np.float32), 8_000)
    # trim then fade differs from fade then trim: order matters
    a = Chain([Trim(start_s=0.125), Fade(fade_in_s=0.125)])(x)
    b = Chain([Fade(fade_in_s=0.125), Trim(start_s=0.125)])(x)
    assert a.samples[0, 0] == 0.0 and b.samples[0, 0] == pytest.approx(0.5)
    nested = Chain([Chain([Gain(gain_db=-6.0), Invert()]), ToMono()])
    y = nested(x)
    assert y.channels == 1
    np.testing.assert_allclose(y.samples, -0.5 * 10 ** (-6 / 20), rtol=1e-6)  # float32 gain


def test_list_behaviour() -> None:
    chain = Chain([Gain(gain_db=1.0)])
    chain.append(Invert())
    chain.insert(0, HighPass(cutoff_hz=50.0))
    assert [e.name for e in chain] == ["highpass", "gain", "invert"]
    assert isinstance(chain[1:], Chain) and len(chain[1:]) == 2
    del chain[0]
    chain[0] = Gain(gain_db=2.0)
    assert repr(chain) == "Chain([Gain(gain_db=2.0), Invert()])"
    with pytest.raises(AudioValueError, match="chain: item 1 is str, not an effect"):
        Chain([Gain(gain_db=1.0), "reverb"])  # type: ignore[list-item]
    with pytest.raises(AudioValueError, match="not an effect"):
        chain.append(len)  # type: ignore[arg-type]


def test_empty_chain_is_identity() -> None:
    x = Audio(np.ones((1, 10), np.float32), 8_000)
    assert Chain()(x).samples.tolist() == x.samples.tolist()


@pytest.mark.parametrize("suffix", [".yaml", ".json"])
def test_save_and_load_round_trip(tmp_path: Path, suffix: str) -> None:
    src = tmp_path / "voice.yaml"
    src.write_text(VOICE_YAML)
    chain = Chain.load(src)
    assert [e.name for e in chain] == ["highpass", "compressor", "chain"]
    assert chain[1].ratio == 3.0  # type: ignore[attr-defined]
    path = chain.save(tmp_path / f"copy{suffix}")
    if suffix == ".json":
        assert json.loads(path.read_text())["effects"][0] == {"effect": "highpass",
                                                               "cutoff_hz": 80.0}
    again = Chain.load(path)
    assert again.to_dict() == chain.to_dict()


def test_bare_list_and_single_effect_forms() -> None:
    assert len(Chain.from_dict([{"effect": "invert"}, {"effect": "to_mono"}])) == 2
    assert Chain.from_dict({"effect": "gain", "gain_db": 3})[0] == Gain(gain_db=3)


@pytest.mark.parametrize(("text", "message"), [
    ("effects:\n  - {effect: highpass, cutoff_hz: 80\n", r"not valid YAML \(line 3, column 1"),
    ("", "file is empty"),
    ("effects: 3\n", "'effects' must be a list of effects, got int"),
    ("effects:\n  - effect: highpass\n    cutoff_hz: 0\n", "highpass: cutoff_hz=0 must be > 0 Hz"),
    ("effects:\n  - effect: reverbb\n", "unknown effect 'reverbb'; known: "),
    ("effects:\n  - {effect: gain, gain_db: 3}\nspeed: 2\n", "unexpected key 'speed'"),
])
def test_bad_chain_files(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(AudioValueError, match=message) as info:
        Chain.load(path)
    assert str(info.value).startswith(f"{path}: ") and "\n" not in str(info.value)


def test_bad_json_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(AudioValueError, match=r"^chain: not valid JSON \(line 1, column 14"):
        Chain.from_json('{"effects": [}')
    with pytest.raises(AudioFileError, match="cannot read chain file"):
        Chain.load(tmp_path / "missing.yaml")


def test_streamable_and_reason() -> None:
    assert Chain([HighPass(cutoff_hz=80.0), Resample(rate_hz=16_000)]).streamable
    chain = Chain([HighPass(cutoff_hz=80.0), Fade(fade_out_s=1.0)])
    assert not chain.streamable
    assert chain.whole_signal_reason.startswith("fade: a fade-out")
