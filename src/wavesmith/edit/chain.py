"""A :class:`Chain` of effects: list-like, itself an effect, and saved as YAML or JSON.

Chain file format (YAML shown; JSON is the same structure)::

    effect: chain            # optional at the top level
    effects:
      - {effect: highpass, cutoff_hz: 80}
      - {effect: compressor, threshold_db: -18, ratio: 3, attack_s: 0.005, release_s: 0.12}
      - effect: chain        # chains nest
        effects:
          - {effect: gain, gain_db: -1}

A bare list of effects is accepted too. Parameters carry units in their names; unknown
effects, unknown parameters and out-of-range values are refused with one-line errors.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator, Mapping, MutableSequence
from pathlib import Path
from typing import Any, overload

from wavesmith.audio import Audio, check_audio, concatenate
from wavesmith.edit.effect import Effect, effect_from_dict, register
from wavesmith.errors import AudioFileError, AudioValueError

__all__ = ["Chain"]

_JSON_SUFFIXES = (".json",)
_MAX_CHAIN_FILE_BYTES = 1_000_000  # bytes; a chain file is a few lines of text


@register
class Chain(Effect, MutableSequence[Effect]):
    """Effects applied in order; a chain is itself an effect, so chains nest.

    Parameters
    ----------
    effects : iterable of Effect, optional
        The effects, first applied first.

    Examples
    --------
    >>> import numpy as np
    >>> from wavesmith import Audio
    >>> from wavesmith.edit import Chain, Gain, HighPass
    >>> chain = Chain([HighPass(cutoff_hz=80.0), Gain(gain_db=-6.0)])
    >>> chain
    Chain([HighPass(cutoff_hz=80.0), Gain(gain_db=-6.0)])
    >>> chain.to_dict()["effects"][0]
    {'effect': 'highpass', 'cutoff_hz': 80.0}
    >>> chain(Audio(np.zeros((2, 4_800), np.float32), 48_000)).frames
    4800
    """

    name = "chain"
    params = ()

    def __init__(self, effects: Iterable[Effect] = ()) -> None:
        self._effects: list[Effect] = [self._checked(e, i) for i, e in enumerate(effects)]
        super().__init__()

    @staticmethod
    def _checked(effect: object, index: int) -> Effect:
        if not isinstance(effect, Effect):
            raise AudioValueError(
                f"chain: item {index} is {type(effect).__name__}, not an effect; "
                "build effects such as HighPass(cutoff_hz=80.0)"
            )
        return effect

    # -- list behaviour -----------------------------------------------------------------
    @overload
    def __getitem__(self, index: int) -> Effect: ...
    @overload
    def __getitem__(self, index: slice) -> Chain: ...
    def __getitem__(self, index: int | slice) -> Effect | Chain:
        if isinstance(index, slice):
            return Chain(self._effects[index])
        return self._effects[index]

    def __setitem__(self, index: Any, value: Any) -> None:
        if isinstance(index, slice):
            self._effects[index] = [self._checked(e, i) for i, e in enumerate(value)]
        else:
            self._effects[index] = self._checked(value, index)

    def __delitem__(self, index: int | slice) -> None:
        del self._effects[index]

    def __len__(self) -> int:
        return len(self._effects)

    def __iter__(self) -> Iterator[Effect]:
        return iter(self._effects)

    def insert(self, index: int, value: Effect) -> None:
        """Insert an effect before ``index``."""
        self._effects.insert(index, self._checked(value, index))

    def __repr__(self) -> str:
        return f"Chain([{', '.join(map(repr, self._effects))}])"

    # -- the effect protocol -------------------------------------------------------------
    @property  # type: ignore[override]
    def streamable(self) -> bool:  # type: ignore[override]
        """True when every effect in the chain is streamable."""
        return all(e.streamable for e in self._effects)

    @property
    def whole_signal_reason(self) -> str:  # type: ignore[override]
        """Why the first non-streamable effect needs the whole signal."""
        for e in self._effects:
            if not e.streamable:
                return f"{e.name}: {e.whole_signal_reason}"
        return ""

    def process(self, audio: Audio, *, reset: bool = True) -> Audio:
        """Run ``audio`` through every effect in order (see :meth:`Effect.process`).

        With ``reset=False`` every effect must be streamable; the refusal names the first
        one that is not.
        """
        check_audio(audio, name="chain: audio", min_frames=0)
        if not reset and not self.streamable:
            raise AudioValueError(
                f"chain: cannot process block by block ({self.whole_signal_reason}); pass the "
                "whole signal with reset=True"
            )
        for effect in self._effects:
            audio = effect.process(audio, reset=reset)
        return audio

    def reset(self) -> None:
        """Reset every effect."""
        for effect in self._effects:
            effect.reset()

    def flush(self) -> Audio | None:
        """End the stream: pass each effect's held-back output through the effects after it."""
        pending: Audio | None = None
        for effect in self._effects:
            parts = []
            if pending is not None and pending.frames:
                parts.append(effect.process(pending, reset=False))
            held = effect.flush()
            if held is not None:
                parts.append(held)
            pending = concatenate(parts) if parts else None
        return pending

    @property
    def tail_s(self) -> float:
        """Sum of the effects' tails, in seconds (an upper bound)."""
        return sum(e.tail_s for e in self._effects)

    # -- serialisation -------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """``{"effect": "chain", "effects": [...]}``, JSON- and YAML-safe."""
        return {"effect": "chain", "effects": [e.to_dict() for e in self._effects]}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | list[Any]) -> Chain:
        """Build a chain from :meth:`to_dict`'s form, or from a bare list of effect mappings.

        Raises
        ------
        AudioValueError
            Malformed structure, unknown effect or parameter, or a value out of range; the
            message names the effect and the parameter.
        """
        if isinstance(data, Mapping):
            extra = sorted(set(data) - {"effect", "effects"})
            if data.get("effect", "chain") != "chain" or extra:
                if "effects" not in data:  # a single effect: a chain of one
                    return cls([effect_from_dict(data)])
                raise AudioValueError(
                    f"chain: unexpected key {extra[0] if extra else 'effect'!r} next to "
                    "'effects'; a chain is {effect: chain, effects: [...]}"
                )
            items = data.get("effects")
        else:
            items = data
        if not isinstance(items, list):
            raise AudioValueError(
                f"chain: 'effects' must be a list of effects, got {type(items).__name__}"
            )
        return cls([effect_from_dict(item) for item in items])

    @classmethod
    def from_json(cls, text: str) -> Chain:
        """Build a chain from JSON text (as the service receives it)."""
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise AudioValueError(
                f"chain: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"
            ) from exc
        return cls.from_dict(data)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Chain:
        """Read a chain file: JSON for ``.json``, otherwise YAML (which also reads JSON).

        Raises
        ------
        AudioFileError
            The file cannot be read.
        AudioValueError
            Not valid YAML/JSON, or an invalid chain (the message starts with the file name).
        """
        import yaml  # local import: only chain files need it

        path = Path(path)
        try:
            if path.stat().st_size > _MAX_CHAIN_FILE_BYTES:
                raise AudioFileError(f"{path}: {path.stat().st_size} bytes is too large for "
                                     f"a chain file (limit {_MAX_CHAIN_FILE_BYTES})")
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            if isinstance(exc, AudioFileError):
                raise
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            raise AudioFileError(f"{path}: cannot read chain file ({reason})") from exc
        try:
            if path.suffix.lower() in _JSON_SUFFIXES:
                return cls.from_json(text)
            try:
                data = yaml.safe_load(text)
            except yaml.YAMLError as exc:
                mark = getattr(exc, "problem_mark", None)
                where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
                problem = getattr(exc, "problem", None) or type(exc).__name__
                raise AudioValueError(f"chain: not valid YAML ({where}{problem})") from exc
            if data is None:
                raise AudioValueError("chain: file is empty; expected effects: [...]")
            return cls.from_dict(data)
        except AudioValueError as exc:
            raise AudioValueError(f"{path}: {exc}") from exc

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the chain as JSON (``.json``) or YAML (any other suffix); return the path."""
        import yaml

        path = Path(path)
        if path.suffix.lower() in _JSON_SUFFIXES:
            text = json.dumps(self.to_dict(), indent=2) + "\n"
        else:
            text = yaml.safe_dump(self.to_dict(), sort_keys=False)
        try:
            path.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise AudioFileError(f"{path}: cannot write chain file ({exc.strerror})") from exc
        return path
