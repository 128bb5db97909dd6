"""Time-based effects: reverb, delay (echo) and chorus (pedalboard / JUCE).

All are streamable: delay lines and reverb tanks carry over between blocks, so block-by-block
output equals whole-signal output exactly. Output keeps the input's length; ``tail_s`` says
how much decaying tail that cuts at the end (append silence to keep it).
pedalboard is imported where a plugin is made, so `import wavesmith.edit` stays light.
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import Any

import numpy as np

from wavesmith.audio import Audio
from wavesmith.edit._pedalboard import PedalboardEffect
from wavesmith.edit.effect import check_number, register

__all__ = ["Chorus", "Delay", "Reverb", "chorus", "delay", "reverb"]

TAIL_FLOOR_DB = -60.0         # dB below the peak where a tail counts as ended (RT60)
MAX_DELAY_S = 30.0            # seconds; pedalboard's delay line limit
MAX_FEEDBACK = 0.99           # dimensionless; 1.0 would repeat forever
MAX_CHORUS_RATE_HZ = 100.0    # Hz; LFO rate (pedalboard's limit)
MAX_CHORUS_DELAY_S = 0.1      # seconds; longer centre delays are echoes, not chorus
_IR_RATE_HZ = 48_000          # Hz at which a reverb's impulse response is measured
_IR_SECONDS = 30.0            # seconds of impulse response rendered to find the tail


def _unit(effect: str, name: str, value: float) -> float:
    return check_number(effect, name, value, ge=0, le=1)


@lru_cache(maxsize=64)
def _reverb_tail_s(room_size: float, damping: float, width: float) -> float:
    """Measure when the reverb's impulse response falls TAIL_FLOOR_DB below its peak (s)."""
    import pedalboard
    plugin = pedalboard.Reverb(room_size=room_size, damping=damping, wet_level=1.0,
                               dry_level=0.0, width=width)
    impulse = np.zeros((1, int(_IR_SECONDS * _IR_RATE_HZ)), np.float32)
    impulse[0, 0] = 1.0
    ir = np.abs(plugin.process(impulse, _IR_RATE_HZ)[0])
    above = np.flatnonzero(ir > ir.max() * 10 ** (TAIL_FLOOR_DB / 20))
    return float(above[-1] + 1) / _IR_RATE_HZ if above.size else 0.0


@register
class Reverb(PedalboardEffect):
    """Freeverb-style room reverb; all parameters are fractions in [0, 1].

    ``room_size`` sets the decay time, ``damping`` the high-frequency absorption,
    ``wet_level``/``dry_level`` the mix and ``width`` the stereo spread.
    """

    name = "reverb"
    params = ("room_size", "damping", "wet_level", "dry_level", "width")

    def __init__(self, *, room_size: float = 0.5, damping: float = 0.5,
                 wet_level: float = 0.33, dry_level: float = 0.4, width: float = 1.0) -> None:
        self.room_size = _unit(self.name, "room_size", room_size)
        self.damping = _unit(self.name, "damping", damping)
        self.wet_level = _unit(self.name, "wet_level", wet_level)
        self.dry_level = _unit(self.name, "dry_level", dry_level)
        self.width = _unit(self.name, "width", width)
        super().__init__()

    def _make_plugin(self) -> Any:
        import pedalboard

        return pedalboard.Reverb(room_size=self.room_size, damping=self.damping,
                                 wet_level=self.wet_level, dry_level=self.dry_level,
                                 width=self.width)

    @property
    def tail_s(self) -> float:
        """Seconds until the impulse response is 60 dB below its peak (measured once)."""
        if self.wet_level == 0:
            return 0.0
        return _reverb_tail_s(self.room_size, self.damping, self.width)


class Delay(PedalboardEffect):
    """Echo: repeat the signal after ``delay_s`` seconds, each repeat scaled by ``feedback``.

    ``mix`` is the wet fraction (0 dry only, 1 echoes only). Registered as ``delay`` and
    ``echo``.
    """

    name = "delay"
    params = ("delay_s", "feedback", "mix")

    def __init__(self, *, delay_s: float = 0.25, feedback: float = 0.3,
                 mix: float = 0.5) -> None:
        self.delay_s = check_number(self.name, "delay_s", delay_s, unit="s", gt=0,
                                    le=MAX_DELAY_S)
        self.feedback = check_number(self.name, "feedback", feedback, ge=0, le=MAX_FEEDBACK)
        self.mix = _unit(self.name, "mix", mix)
        super().__init__()

    def _make_plugin(self) -> Any:
        import pedalboard

        return pedalboard.Delay(delay_seconds=self.delay_s, feedback=self.feedback,
                                mix=self.mix)

    @property
    def tail_s(self) -> float:
        """Seconds until the repeats have decayed by 60 dB (one repeat without feedback)."""
        if self.mix == 0:
            return 0.0
        if self.feedback == 0:
            return self.delay_s
        repeats = math.ceil(TAIL_FLOOR_DB / (20 * math.log10(self.feedback)))
        return self.delay_s * (1 + repeats)


register(Delay, "echo")


@register
class Chorus(PedalboardEffect):
    """Chorus: mix with a copy whose delay is modulated by an LFO of ``rate_hz`` (Hz).

    ``depth`` (0-1) is the modulation depth, ``centre_delay_s`` the mean delay in seconds,
    ``feedback`` the fraction fed back, ``mix`` the wet fraction.
    """

    name = "chorus"
    params = ("rate_hz", "depth", "centre_delay_s", "feedback", "mix")

    def __init__(self, *, rate_hz: float = 1.0, depth: float = 0.25,
                 centre_delay_s: float = 0.007, feedback: float = 0.0,
                 mix: float = 0.5) -> None:
        self.rate_hz = check_number(self.name, "rate_hz", rate_hz, unit="Hz", gt=0,
                                    le=MAX_CHORUS_RATE_HZ)
        self.depth = _unit(self.name, "depth", depth)
        self.centre_delay_s = check_number(self.name, "centre_delay_s", centre_delay_s,
                                           unit="s", gt=0, le=MAX_CHORUS_DELAY_S)
        self.feedback = check_number(self.name, "feedback", feedback, ge=0, le=MAX_FEEDBACK)
        self.mix = _unit(self.name, "mix", mix)
        super().__init__()

    def _make_plugin(self) -> Any:
        import pedalboard

        return pedalboard.Chorus(rate_hz=self.rate_hz, depth=self.depth,
                                 centre_delay_ms=self.centre_delay_s * 1000.0,
                                 feedback=self.feedback, mix=self.mix)

    @property
    def tail_s(self) -> float:
        """The longest modulated delay, in seconds (feedback repeats not counted)."""
        return 0.0 if self.mix == 0 else self.centre_delay_s * (1 + self.depth)


def reverb(audio: Audio, *, room_size: float = 0.5, damping: float = 0.5,
           wet_level: float = 0.33, dry_level: float = 0.4, width: float = 1.0) -> Audio:
    """Apply :class:`Reverb` (fractions in [0, 1]) to the whole signal."""
    return Reverb(room_size=room_size, damping=damping, wet_level=wet_level,
                  dry_level=dry_level, width=width)(audio)


def delay(audio: Audio, *, delay_s: float = 0.25, feedback: float = 0.3,
          mix: float = 0.5) -> Audio:
    """Apply :class:`Delay` (seconds, fractions) to the whole signal."""
    return Delay(delay_s=delay_s, feedback=feedback, mix=mix)(audio)


def chorus(audio: Audio, *, rate_hz: float = 1.0, depth: float = 0.25,
           centre_delay_s: float = 0.007, feedback: float = 0.0, mix: float = 0.5) -> Audio:
    """Apply :class:`Chorus` (Hz, seconds, fractions) to the whole signal."""
    return Chorus(rate_hz=rate_hz, depth=depth, centre_delay_s=centre_delay_s,
                  feedback=feedback, mix=mix)(audio)
