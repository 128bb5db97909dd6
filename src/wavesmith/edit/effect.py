"""The effect protocol: :class:`Effect`, parameter checks, and the registry of effect names.

An effect is an object with unit-suffixed keyword parameters and state that survives between
blocks (filter memory, a reverb tail, a resampler's delay line)::

    hp = HighPass(cutoff_hz=80.0)
    whole = hp(take)                                   # whole signal: state reset first
    parts = [hp.process(b, reset=False) for b in blocks]   # streaming: state carried over
    rest = hp.flush()                                  # output still held inside, or None

Streamable effects give the same output block by block as on the whole signal (within the
tolerance stated in their tests). Effects that need the whole signal (time-stretch,
normalisation to a measured level, silence trimming) set ``streamable = False`` and refuse
``reset=False``; :func:`wavesmith.edit.apply_file` then processes the file whole.

Every effect registers its ``name`` so that chain files can refer to it
(``{"effect": "highpass", "cutoff_hz": 80}``); see :meth:`Effect.from_dict`.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar, TypeVar

import numpy as np

from wavesmith.audio import Audio, check_audio
from wavesmith.errors import AudioValueError, SampleRateError

__all__ = ["Effect", "effect_from_dict", "effect_names", "register"]

_REGISTRY: dict[str, type[Effect]] = {}
_ALIASES: dict[str, str] = {}
E = TypeVar("E", bound="type[Effect]")


class Effect:
    """Base class of every effect; subclasses implement :meth:`_process`.

    Attributes
    ----------
    name : str
        Registry name used in chain files and error messages (``"highpass"``).
    params : tuple of str
        Names of the constructor's keyword parameters, in order; they are read-only
        attributes (make a new effect to change one).
    streamable : bool
        Whether :meth:`process` accepts ``reset=False`` (block-by-block processing).
    """

    name: ClassVar[str] = "effect"
    params: ClassVar[tuple[str, ...]] = ()
    streamable: bool = True
    #: Why the effect cannot stream (said in the error when ``reset=False`` is refused).
    whole_signal_reason: ClassVar[str] = ""

    _frozen: bool = False

    def __init__(self) -> None:
        self._rate: int | None = None       # Hz of the stream in progress, None after reset
        self._channels: int | None = None   # channels of the stream in progress
        self._frozen = True

    def __setattr__(self, key: str, value: object) -> None:
        if self._frozen and key in self.params:
            raise AttributeError(
                f"{self.name}: {key} is read-only; make a new {type(self).__name__}(...)"
            )
        object.__setattr__(self, key, value)

    # -- processing ---------------------------------------------------------------------
    def process(self, audio: Audio, *, reset: bool = True) -> Audio:
        """Process ``audio`` and return the result.

        Parameters
        ----------
        audio : Audio
            The whole signal (``reset=True``) or the next block of a stream (``reset=False``).
        reset : bool, default True
            Clear the effect's state first. Pass ``False`` for every block of a stream
            (call :meth:`reset` before the first one, :meth:`flush` after the last).

        Returns
        -------
        Audio
            Same sample rate and channels unless the effect changes them (``resample``,
            ``to_mono``); same length for most effects.

        Raises
        ------
        AudioValueError
            ``reset=False`` on an effect that needs the whole signal, or a parameter that is
            invalid at this sample rate (e.g. a cutoff above Nyquist).
        SampleRateError
            A block's rate differs from the stream's.
        """
        check_audio(audio, name=f"{self.name}: audio", min_frames=0)
        if reset:
            self.reset()
        elif not self.streamable:
            raise AudioValueError(
                f"{self.name}: cannot process block by block ({self.whole_signal_reason}); "
                "pass the whole signal with reset=True"
            )
        self._begin(audio)
        return self._process(audio)

    def __call__(self, audio: Audio, *, reset: bool = True) -> Audio:
        """Alias of :meth:`process`."""
        return self.process(audio, reset=reset)

    def _begin(self, audio: Audio) -> None:
        """Check ``audio`` continues the current stream; start one after a reset."""
        if self._rate is None:
            self._start(audio.sample_rate, audio.channels)
            self._rate, self._channels = audio.sample_rate, audio.channels
            return
        if audio.sample_rate != self._rate:
            raise SampleRateError(
                f"{self.name}: block is {audio.sample_rate} Hz but the stream is {self._rate} "
                "Hz; call reset() before a new stream"
            )
        if audio.channels != self._channels:
            raise AudioValueError(
                f"{self.name}: block has {audio.channels} channel(s) but the stream has "
                f"{self._channels}; call reset() before a new stream"
            )

    def _start(self, sample_rate: int, channels: int) -> None:
        """Hook: a stream starts (check rate-dependent parameters, build state)."""

    def _process(self, audio: Audio) -> Audio:
        raise NotImplementedError(f"{type(self).__name__} does not implement _process")

    def reset(self) -> None:
        """Clear all state (filter memory, tails, buffered frames)."""
        self._rate = self._channels = None
        self._reset()

    def _reset(self) -> None:
        """Hook: clear subclass state."""

    def flush(self) -> Audio | None:
        """Return output still held inside the effect at the end of a stream, or ``None``.

        Only effects with a processing delay hold output back (``resample``); for the others
        this is ``None``. Call it once after the last block.
        """
        return None

    @property
    def tail_s(self) -> float:
        """Seconds of output the effect goes on producing after its input stops.

        Output keeps the input's length, so this much of a reverb or echo tail is cut at the
        end; append silence to the input to keep it. 0 for effects without a tail.
        """
        return 0.0

    # -- description --------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """The effect as ``{"effect": name, param: value, ...}`` (JSON- and YAML-safe)."""
        return {"effect": self.name, **{p: _plain(getattr(self, p)) for p in self.params}}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Effect:
        """Build an effect from ``{"effect": name, ...}``; see :func:`effect_from_dict`."""
        return effect_from_dict(data)

    def __repr__(self) -> str:
        args = ", ".join(f"{p}={getattr(self, p)!r}" for p in self.params)
        return f"{type(self).__name__}({args})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Effect):
            return NotImplemented
        return type(self) is type(other) and self.to_dict() == other.to_dict()

    __hash__ = None  # type: ignore[assignment]  # effects hold state: not hashable


def _plain(value: object) -> object:
    if isinstance(value, (np.floating, np.integer)):
        return value.item()
    if isinstance(value, Effect):
        return value.to_dict()
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


# -- the registry -----------------------------------------------------------------------------
def register(cls: E, *aliases: str) -> E:
    """Class decorator: make ``cls`` available to chain files under ``cls.name``."""
    _REGISTRY[cls.name] = cls
    for alias in aliases:
        _ALIASES[alias] = cls.name
    return cls


def effect_names() -> list[str]:
    """Names chain files may use (aliases included), sorted."""
    return sorted([*_REGISTRY, *_ALIASES])


def effect_from_dict(data: Mapping[str, Any]) -> Effect:
    """Build an effect from ``{"effect": name, param: value, ...}``.

    Raises
    ------
    AudioValueError
        Not a mapping, no ``effect`` key, an unknown effect (the message lists the known
        ones), an unknown or missing parameter, or a parameter out of range.
    """
    if not isinstance(data, Mapping):
        raise AudioValueError(
            f"chain: each effect must be a mapping like {{effect: highpass, cutoff_hz: 80}}, "
            f"got {type(data).__name__} {data!r:.60}"
        )
    if "effect" not in data:
        raise AudioValueError(f"chain: effect entry {dict(data)!r:.80} has no 'effect' key")
    name = data["effect"]
    key = _ALIASES.get(name, name) if isinstance(name, str) else name
    if key not in _REGISTRY:
        raise AudioValueError(
            f"chain: unknown effect {name!r}; known: {', '.join(effect_names())}"
        )
    cls = _REGISTRY[key]
    kwargs = {k: v for k, v in data.items() if k != "effect"}
    if cls.name == "chain":
        return cls.from_dict(data)
    unknown = [k for k in kwargs if k not in cls.params]
    if unknown:
        known = ", ".join(cls.params) or "none"
        raise AudioValueError(f"{cls.name}: unknown parameter {unknown[0]!r}; known: {known}")
    sig = inspect.signature(cls.__init__)
    missing = [p for p in cls.params
               if p not in kwargs and sig.parameters[p].default is inspect.Parameter.empty]
    if missing:
        raise AudioValueError(f"{cls.name}: missing parameter {missing[0]}")
    return cls(**kwargs)


# -- parameter checks -------------------------------------------------------------------------
def check_number(
    effect: str,
    name: str,
    value: object,
    *,
    unit: str = "",
    gt: float | None = None,
    ge: float | None = None,
    lt: float | None = None,
    le: float | None = None,
) -> float:
    """Return ``value`` as a float after checking it is a finite number within bounds.

    The error names the effect, the parameter, the value and the unit::

        AudioValueError: highpass: cutoff_hz=0 must be > 0 Hz
    """
    u = f" {unit}" if unit else ""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        in_unit = f" ({unit})" if unit else ""
        raise AudioValueError(f"{effect}: {name}={value!r} must be a number{in_unit}")
    x = float(value)
    if not math.isfinite(x):
        raise AudioValueError(f"{effect}: {name}={x} must be a finite number")
    for bound, ok, op in ((gt, lambda b: x > b, ">"), (ge, lambda b: x >= b, ">="),
                          (lt, lambda b: x < b, "<"), (le, lambda b: x <= b, "<=")):
        if bound is not None and not ok(bound):
            raise AudioValueError(f"{effect}: {name}={x:g} must be {op} {bound:g}{u}")
    return x


def check_choice(effect: str, name: str, value: object, choices: Sequence[str]) -> str:
    """Return ``value`` after checking it is one of ``choices``."""
    if value not in choices:
        raise AudioValueError(
            f"{effect}: {name}={value!r} must be one of {', '.join(map(repr, choices))}"
        )
    return str(value)


def check_below_nyquist(effect: str, name: str, freq_hz: float, sample_rate: int) -> None:
    """Refuse a frequency (Hz) at or above half the sample rate."""
    if freq_hz >= sample_rate / 2:
        raise AudioValueError(
            f"{effect}: {name}={freq_hz:g} Hz must be below Nyquist "
            f"({sample_rate / 2:g} Hz at {sample_rate} Hz)"
        )
