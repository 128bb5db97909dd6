"""Dynamics: compressor, limiter and noise gate (pedalboard / JUCE).

All are streamable: the envelope followers carry their state across blocks, so block-by-block
output equals whole-signal output exactly. Times are in seconds here and converted to the
milliseconds pedalboard takes.
pedalboard is imported where a plugin is made, so `import wavesmith.edit` stays light.
"""

from __future__ import annotations

from typing import Any

from wavesmith.audio import Audio
from wavesmith.edit._pedalboard import PedalboardEffect
from wavesmith.edit.effect import check_number, register

__all__ = ["Compressor", "Limiter", "NoiseGate", "compress", "limit", "noise_gate"]

MIN_THRESHOLD_DB = -100.0   # dBFS; quieter thresholds are a unit mistake
MAX_RATIO = 100.0           # dimensionless; beyond this a compressor is a limiter
MAX_TIME_S = 10.0           # seconds; longest attack or release accepted
MS_PER_S = 1000.0


def _threshold(effect: str, value: float) -> float:
    return check_number(effect, "threshold_db", value, unit="dBFS", ge=MIN_THRESHOLD_DB, le=0)


def _time(effect: str, name: str, value: float) -> float:
    return check_number(effect, name, value, unit="s", gt=0, le=MAX_TIME_S)


@register
class Compressor(PedalboardEffect):
    """Reduce the level above ``threshold_db`` (dBFS) by ``ratio`` (e.g. 3 means 3:1).

    ``attack_s`` and ``release_s`` (seconds) are the envelope's response times.
    """

    name = "compressor"
    params = ("threshold_db", "ratio", "attack_s", "release_s")

    def __init__(self, *, threshold_db: float = -18.0, ratio: float = 3.0,
                 attack_s: float = 0.005, release_s: float = 0.120) -> None:
        self.threshold_db = _threshold(self.name, threshold_db)
        self.ratio = check_number(self.name, "ratio", ratio, ge=1, le=MAX_RATIO)
        self.attack_s = _time(self.name, "attack_s", attack_s)
        self.release_s = _time(self.name, "release_s", release_s)
        super().__init__()

    def _make_plugin(self) -> Any:
        import pedalboard

        return pedalboard.Compressor(threshold_db=self.threshold_db, ratio=self.ratio,
                                     attack_ms=self.attack_s * MS_PER_S,
                                     release_ms=self.release_s * MS_PER_S)


@register
class Limiter(PedalboardEffect):
    """Keep the level under ``threshold_db`` (dBFS); gain recovers over ``release_s`` (s).

    This is a sample-peak limiter, not a true-peak one: inter-sample peaks can exceed the
    threshold by a fraction of a dB (use ``loudness_normalize`` for a true-peak ceiling).
    """

    name = "limiter"
    params = ("threshold_db", "release_s")

    def __init__(self, *, threshold_db: float = -1.0, release_s: float = 0.100) -> None:
        self.threshold_db = _threshold(self.name, threshold_db)
        self.release_s = _time(self.name, "release_s", release_s)
        super().__init__()

    def _make_plugin(self) -> Any:
        import pedalboard

        return pedalboard.Limiter(threshold_db=self.threshold_db,
                                  release_ms=self.release_s * MS_PER_S)


@register
class NoiseGate(PedalboardEffect):
    """Attenuate the signal while it is below ``threshold_db`` (dBFS), by ``ratio``."""

    name = "noise_gate"
    params = ("threshold_db", "ratio", "attack_s", "release_s")

    def __init__(self, *, threshold_db: float = -50.0, ratio: float = 10.0,
                 attack_s: float = 0.001, release_s: float = 0.100) -> None:
        self.threshold_db = _threshold(self.name, threshold_db)
        self.ratio = check_number(self.name, "ratio", ratio, ge=1, le=MAX_RATIO)
        self.attack_s = _time(self.name, "attack_s", attack_s)
        self.release_s = _time(self.name, "release_s", release_s)
        super().__init__()

    def _make_plugin(self) -> Any:
        import pedalboard

        return pedalboard.NoiseGate(threshold_db=self.threshold_db, ratio=self.ratio,
                                    attack_ms=self.attack_s * MS_PER_S,
                                    release_ms=self.release_s * MS_PER_S)


def compress(audio: Audio, *, threshold_db: float = -18.0, ratio: float = 3.0,
             attack_s: float = 0.005, release_s: float = 0.120) -> Audio:
    """Apply :class:`Compressor` (dBFS, ratio, seconds) to the whole signal."""
    return Compressor(threshold_db=threshold_db, ratio=ratio, attack_s=attack_s,
                      release_s=release_s)(audio)


def limit(audio: Audio, *, threshold_db: float = -1.0, release_s: float = 0.100) -> Audio:
    """Apply :class:`Limiter` (dBFS, seconds) to the whole signal."""
    return Limiter(threshold_db=threshold_db, release_s=release_s)(audio)


def noise_gate(audio: Audio, *, threshold_db: float = -50.0, ratio: float = 10.0,
               attack_s: float = 0.001, release_s: float = 0.100) -> Audio:
    """Apply :class:`NoiseGate` (dBFS, ratio, seconds) to the whole signal."""
    return NoiseGate(threshold_db=threshold_db, ratio=ratio, attack_s=attack_s,
                     release_s=release_s)(audio)
