"""Audio editing: effects as objects, composed into a :class:`Chain`, applied to files.

Effects take unit-suffixed keyword parameters and keep state between blocks, so streamed
output equals whole-signal output::

    from wavesmith import io
    from wavesmith.edit import Chain, Compressor, Gain, HighPass, apply_file

    chain = Chain([HighPass(cutoff_hz=80.0),
                   Compressor(threshold_db=-18.0, ratio=3.0),
                   Gain(gain_db=-1.0)])
    cleaned = chain(io.load("take.flac"))            # whole signal
    apply_file("take.flac", "clean.flac", chain)     # streamed block by block
    chain.save("voice.yaml")                         # and Chain.load("voice.yaml")

Each effect has a functional shortcut (``highpass(audio, cutoff_hz=80.0)``). Effects that
need the whole signal (``time_stretch``, ``pitch_shift``, ``loudness_normalize``,
``peak_normalize``, ``trim_silence``, ``denoise``, a ``fade`` with a fade-out) have
``streamable = False``; :func:`apply_file` then processes the file whole.
``neural_denoise`` (DeepFilterNet 3), ``strip_silence`` and ``cut`` stream.

Voice activity detection (:mod:`wavesmith.edit.vad`): ``detect_speech(audio)`` and
``detect_speech_file(path)`` return :class:`SpeechSegment` (start/end, seconds);
:class:`SpeechDetector` is the streaming object behind them.
"""

from wavesmith.edit.ambience import Chorus, Delay, Reverb, chorus, delay, reverb
from wavesmith.edit.apply import DEFAULT_EDIT_BLOCK_SECONDS, EditReport, apply_file
from wavesmith.edit.chain import Chain
from wavesmith.edit.channels import (
    Resample,
    SelectChannels,
    ToMono,
    resample,
    select_channels,
    to_mono,
)
from wavesmith.edit.denoise import Denoise, NeuralDenoise, denoise, neural_denoise
from wavesmith.edit.dynamics import Compressor, Limiter, NoiseGate, compress, limit, noise_gate
from wavesmith.edit.effect import Effect, effect_from_dict, effect_names, register
from wavesmith.edit.fade import FADE_SHAPES, Fade, fade
from wavesmith.edit.filters import (
    HighPass,
    HighShelf,
    LowPass,
    LowShelf,
    PeakEQ,
    high_shelf,
    highpass,
    low_shelf,
    lowpass,
    peak_eq,
)
from wavesmith.edit.level import (
    Gain,
    Invert,
    LoudnessNormalize,
    PeakNormalize,
    gain,
    invert,
    loudness_normalize,
    peak_normalize,
)
from wavesmith.edit.mix import MixReport, concat_files, mix, mix_files, parse_numbers
from wavesmith.edit.stretch import PitchShift, TimeStretch, pitch_shift, time_stretch
from wavesmith.edit.trim import (
    Cut,
    StripSilence,
    Trim,
    TrimSilence,
    cut,
    strip_silence,
    trim,
    trim_silence,
)
from wavesmith.edit.vad import (
    SpeechDetector,
    SpeechSegment,
    VadReport,
    detect_speech,
    detect_speech_file,
    iter_speech_file,
    vad_file,
)

__all__ = [
    "DEFAULT_EDIT_BLOCK_SECONDS",
    "FADE_SHAPES",
    "Chain",
    "Chorus",
    "Compressor",
    "Cut",
    "Delay",
    "Denoise",
    "EditReport",
    "Effect",
    "Fade",
    "Gain",
    "HighPass",
    "HighShelf",
    "Invert",
    "Limiter",
    "LoudnessNormalize",
    "LowPass",
    "LowShelf",
    "MixReport",
    "NeuralDenoise",
    "NoiseGate",
    "PeakEQ",
    "PeakNormalize",
    "PitchShift",
    "Resample",
    "Reverb",
    "SelectChannels",
    "SpeechDetector",
    "SpeechSegment",
    "StripSilence",
    "TimeStretch",
    "ToMono",
    "Trim",
    "TrimSilence",
    "VadReport",
    "apply_file",
    "chorus",
    "compress",
    "concat_files",
    "cut",
    "delay",
    "denoise",
    "detect_speech",
    "detect_speech_file",
    "effect_from_dict",
    "effect_names",
    "fade",
    "gain",
    "high_shelf",
    "highpass",
    "invert",
    "iter_speech_file",
    "limit",
    "loudness_normalize",
    "low_shelf",
    "lowpass",
    "mix",
    "mix_files",
    "neural_denoise",
    "noise_gate",
    "parse_numbers",
    "peak_eq",
    "peak_normalize",
    "pitch_shift",
    "register",
    "resample",
    "reverb",
    "select_channels",
    "strip_silence",
    "time_stretch",
    "to_mono",
    "trim",
    "trim_silence",
    "vad_file",
]
