"""The effect protocol: parameter checks, registry, descriptions, stream checks."""

from __future__ import annotations

import numpy as np
import pytest

from wavesmith import Audio
from wavesmith.edit import (
    Chain,
    Compressor,
    Delay,
    Denoise,
    Fade,
    Gain,
    HighPass,
    LoudnessNormalize,
    LowPass,
    PeakEQ,
    PitchShift,
    Resample,
    Reverb,
    TimeStretch,
    Trim,
    effect_from_dict,
    effect_names,
)
from wavesmith.errors import AudioValueError, SampleRateError


def noise(rng: np.random.Generator, channels: int = 2, frames: int = 4_800,
          rate: int = 48_000) -> Audio:
    return Audio((0.1 * rng.standard_normal((channels, frames))).astype(np.float32), rate)


@pytest.mark.parametrize(("make", "message"), [
    (lambda: HighPass(cutoff_hz=0), r"^highpass: cutoff_hz=0 must be > 0 Hz$"),
    (lambda: LowPass(cutoff_hz=-5.0), r"^lowpass: cutoff_hz=-5 must be > 0 Hz$"),
    (lambda: TimeStretch(rate=0), r"^time_stretch: rate=0 must be >= 0\.05$"),
    (lambda: TimeStretch(rate=-1.25), r"^time_stretch: rate=-1\.25 must be >= 0\.05$"),
    (lambda: PitchShift(semitones=100), r"^pitch_shift: semitones=100 must be <= 48 semitones"),
    (lambda: Gain(gain_db="loud"), r"^gain: gain_db='loud' must be a number \(dB\)$"),
    (lambda: Gain(gain_db=float("nan")), r"^gain: gain_db=nan must be a finite number$"),
    (lambda: Gain(gain_db=True), r"^gain: gain_db=True must be a number"),
    (lambda: Compressor(ratio=0.5), r"^compressor: ratio=0\.5 must be >= 1$"),
    (lambda: Compressor(attack_s=0), r"^compressor: attack_s=0 must be > 0 s$"),
    (lambda: Delay(feedback=1.5), r"^delay: feedback=1\.5 must be <= 0\.99$"),
    (lambda: Reverb(room_size=2), r"^reverb: room_size=2 must be <= 1$"),
    (lambda: Fade(shape="cubic"), r"^fade: shape='cubic' must be one of 'linear'"),
    (lambda: Trim(start_s=2.0, end_s=1.0), r"^trim: end_s=1 must be > 2 s$"),
    (lambda: Resample(rate_hz=0), r"^resample: rate_hz=0 Hz is outside the supported range"),
    (lambda: LoudnessNormalize(target_lufs=3), r"^loudness_normalize: target_lufs=3 must be <= 0"),
    (lambda: Denoise(stationary="yes"), r"^denoise: stationary='yes' must be true or false$"),
])
def test_bad_parameters_name_effect_and_parameter(make: object, message: str) -> None:
    with pytest.raises(AudioValueError, match=message) as info:
        make()  # type: ignore[operator]
    assert "\n" not in str(info.value)


def test_cutoff_above_nyquist_is_refused_when_the_rate_is_known(rng: np.random.Generator) -> None:
    hp = HighPass(cutoff_hz=10_000.0)
    with pytest.raises(AudioValueError, match=r"^highpass: cutoff_hz=10000 Hz must be below "
                       r"Nyquist \(8000 Hz at 16000 Hz\)$"):
        hp(noise(rng, rate=16_000))
    assert hp(noise(rng, rate=48_000)).frames == 4_800


def test_unknown_effect_lists_known_ones() -> None:
    with pytest.raises(AudioValueError, match=r"^chain: unknown effect 'hihgpass'; known: .*"
                       r"highpass.*time_stretch"):
        effect_from_dict({"effect": "hihgpass", "cutoff_hz": 80})
    assert {"highpass", "echo", "delay", "time_stretch", "denoise", "chain"} <= set(effect_names())


def test_unknown_and_missing_parameters() -> None:
    with pytest.raises(AudioValueError, match=r"^highpass: unknown parameter 'cutoff'; "
                       r"known: cutoff_hz$"):
        effect_from_dict({"effect": "highpass", "cutoff": 80})
    with pytest.raises(AudioValueError, match=r"^peak_eq: missing parameter gain_db$"):
        effect_from_dict({"effect": "peak_eq", "cutoff_hz": 1000})
    with pytest.raises(AudioValueError, match="no 'effect' key"):
        effect_from_dict({"cutoff_hz": 80})
    with pytest.raises(AudioValueError, match="must be a mapping"):
        effect_from_dict("highpass")  # type: ignore[arg-type]


def test_echo_is_an_alias_of_delay() -> None:
    e = effect_from_dict({"effect": "echo", "delay_s": 0.1})
    assert isinstance(e, Delay) and e.to_dict()["effect"] == "delay"


def test_repr_to_dict_round_trip_and_read_only_parameters() -> None:
    eq = PeakEQ(cutoff_hz=1_000, gain_db=-3, q=2)
    assert repr(eq) == "PeakEQ(cutoff_hz=1000.0, gain_db=-3.0, q=2.0)"
    assert eq.to_dict() == {"effect": "peak_eq", "cutoff_hz": 1000.0, "gain_db": -3.0, "q": 2.0}
    assert effect_from_dict(eq.to_dict()) == eq
    assert effect_from_dict(eq.to_dict()) != PeakEQ(cutoff_hz=1_000, gain_db=-3, q=1)
    with pytest.raises(AttributeError, match="read-only"):
        eq.gain_db = 6.0  # type: ignore[misc]


@pytest.mark.parametrize("effect", [TimeStretch(rate=1.25), PitchShift(semitones=3),
                                    LoudnessNormalize(), Denoise(), Fade(fade_out_s=0.01)])
def test_whole_signal_effects_refuse_blocks(effect: object, rng: np.random.Generator) -> None:
    assert not effect.streamable  # type: ignore[attr-defined]
    with pytest.raises(AudioValueError, match="cannot process block by block"):
        effect.process(noise(rng), reset=False)  # type: ignore[attr-defined]
    with pytest.raises(AudioValueError, match=r"^chain: cannot process block by block \("):
        Chain([Gain(gain_db=0), effect]).process(noise(rng), reset=False)  # type: ignore[list-item]


def test_stream_must_keep_rate_and_channels(rng: np.random.Generator) -> None:
    hp = HighPass(cutoff_hz=100.0)
    hp.process(noise(rng), reset=False)
    with pytest.raises(SampleRateError, match="block is 44100 Hz but the stream is 48000 Hz"):
        hp.process(noise(rng, rate=44_100), reset=False)
    with pytest.raises(AudioValueError, match="block has 1 channel"):
        hp.process(noise(rng, channels=1), reset=False)
    hp.reset()
    assert hp.process(noise(rng, channels=1), reset=False).channels == 1


def test_process_checks_its_input() -> None:
    with pytest.raises(AudioValueError, match=r"highpass: audio must be a wavesmith\.Audio"):
        HighPass(cutoff_hz=80.0)(np.zeros((1, 10), np.float32))  # type: ignore[arg-type]


def test_tails() -> None:
    assert Gain(gain_db=1).tail_s == 0.0
    assert Delay(delay_s=0.1, feedback=0.0).tail_s == pytest.approx(0.1)
    # feedback 0.5: each repeat is -6.02 dB, so 10 repeats reach -60 dB
    assert Delay(delay_s=0.1, feedback=0.5).tail_s == pytest.approx(1.1)
    small, large = Reverb(room_size=0.2).tail_s, Reverb(room_size=0.9).tail_s
    assert 0.05 < small < large < 30.0
    assert Chain([Delay(delay_s=0.1, feedback=0.0), Reverb(room_size=0.2)]).tail_s == \
        pytest.approx(0.1 + small)
