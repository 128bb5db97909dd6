"""Base for effects that run a pedalboard plugin.

pedalboard is used because its plugins (JUCE DSP) are stateful, fast, and stream exactly:
``plugin.process(block, reset=False)`` block by block gives the same samples as one call on
the whole signal (bit-identical in ``tests/edit/test_streaming.py``).

Two pedalboard quirks are handled here, both by *priming* the plugin with
``PRIME_FRAMES`` frames of silence when a stream starts, and always passing
``buffer_size=PRIME_FRAMES``:

* a plugin re-prepares (and so clears its state) when a block is longer than any before it;
  after priming, no block is longer, because longer ones are cut into ``PRIME_FRAMES`` chunks;
* a fresh plugin guesses the channel axis as the smaller dimension, so it cannot read a
  first block with ``frames <= channels``; priming fixes the layout first.

Silence leaves filters, dynamics, delays and reverbs in their reset state, so their output is
unchanged; only the chorus's LFO starts ``PRIME_FRAMES`` frames into its cycle (the same for
whole-signal and streamed processing).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from wavesmith.audio import Audio
from wavesmith.edit.effect import Effect

PRIME_FRAMES = 8_192   # frames of silence a plugin sees first; also pedalboard's buffer_size


class PedalboardEffect(Effect):
    """An :class:`Effect` backed by one pedalboard plugin made by :meth:`_make_plugin`."""

    def __init__(self) -> None:
        self._plugin: Any = None
        super().__init__()

    def _make_plugin(self) -> Any:
        raise NotImplementedError

    def _check_rate(self, sample_rate: int) -> None:
        """Hook: check rate-dependent parameters (cutoffs below Nyquist)."""

    def _start(self, sample_rate: int, channels: int) -> None:
        self._check_rate(sample_rate)
        if self._plugin is None:
            self._plugin = self._make_plugin()
        self._plugin.reset()
        self._plugin.process(np.zeros((channels, PRIME_FRAMES), np.float32), sample_rate,
                             buffer_size=PRIME_FRAMES, reset=False)

    def _reset(self) -> None:
        if self._plugin is not None:
            self._plugin.reset()

    def _process(self, audio: Audio) -> Audio:
        if audio.frames == 0:
            return audio
        y = self._plugin.process(audio.samples, audio.sample_rate, buffer_size=PRIME_FRAMES,
                                 reset=False)
        return Audio(np.ascontiguousarray(y, dtype=np.float32), audio.sample_rate)
