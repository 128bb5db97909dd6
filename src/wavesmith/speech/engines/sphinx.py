"""The sphinx engine: CMU pocketsphinx with its bundled en-us model, optionally a command set.

pocketsphinx was chosen as the light fallback because its wheel holds the en-us acoustic
model, language model and dictionary (BSD) and needs no ctranslate2. With the language model
it is far less accurate than whisper; with a JSGF grammar or a keyphrase list it recognises
small command sets reliably (e.g. the ten digits).

Speech regions are found with pocketsphinx's WebRTC endpointer (``Segmenter``, on the input
padded with :data:`ENDPOINT_PAD_S` of silence); each region,
widened by :data:`MARGIN_S` seconds on both sides (the decoder needs some non-speech to
align ``<s>``/``</s>``), is decoded as one utterance and becomes one
:class:`Segment`. Audio with no speech region gives no segments.
"""

from __future__ import annotations

import hashlib
import io as pyio
import os
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from wavesmith.errors import AudioValueError, ModelError
from wavesmith.speech.asr import (
    ENGINE_SAMPLE_RATE_HZ,
    Segment,
    TranscribeOptions,
    Transcriber,
    Word,
)

__all__ = ["MARGIN_S", "SphinxTranscriber", "digits_grammar"]

MARGIN_S = 0.3               # seconds of audio kept on each side of a speech region
FRAMES_PER_S = 100           # pocketsphinx feature frames per second (-frate 100)
ENDPOINT_PAD_S = 0.5         # seconds of silence around the input for the endpointer: speech
                             # right at the edges (FSDD digits) is otherwise often missed
ENDPOINT_RATIO = 0.75        # fraction of the endpointer's 0.3 s window that must be speech;
                             # 0.9 (its default) missed 13 % of padded FSDD digits, 0.75 1 %
KEYPHRASE_THRESHOLD = 1e-20  # kws detection threshold per phrase (smaller: more detections)
_INT16_SCALE = 32767.0       # float full scale to int16 PCM
_LM_SEARCH = "_default"      # pocketsphinx's name for the language-model search


@dataclass(frozen=True, slots=True)
class _Utterance:
    offset_s: float                                   # region start minus the padding
    words: list[tuple[str, int, int, float]]          # (word, first frame, last frame, posterior)


def digits_grammar() -> str:
    """Return a JSGF grammar accepting one English digit word, ``zero`` to ``nine``."""
    return ("#JSGF V1.0;\ngrammar digits;\npublic <digit> = zero | one | two | three | four | "
            "five | six | seven | eight | nine;\n")


def _word_text(word: str) -> str | None:
    """Dictionary word without its pronunciation variant; None for silence and fillers."""
    word = word.strip()  # keyphrase hits end with a space
    if word.startswith(("<", "[", "+")):
        return None
    return word.split("(", 1)[0]


class SphinxTranscriber(Transcriber):
    """pocketsphinx with the en-us model; build it with :meth:`load`."""

    name = "sphinx"
    model_name = "en-us"

    def __init__(self, decoder: Any) -> None:
        self._decoder = decoder
        self._searches: set[str] = set()
        self._lock = threading.Lock()  # one decoder, used by one thread at a time

    @classmethod
    def load(cls, *, model: str | None = None,
             model_dir: str | os.PathLike[str] | None = None) -> SphinxTranscriber:
        """Load the bundled en-us acoustic model, language model and dictionary."""
        if model is not None or model_dir is not None:
            raise AudioValueError("engine 'sphinx' uses its bundled en-us model; "
                                  "--model/--model-dir are for whisper")
        from pocketsphinx import Decoder

        try:
            decoder = Decoder(samprate=ENGINE_SAMPLE_RATE_HZ, loglevel="ERROR")
        except (RuntimeError, ValueError) as exc:
            raise ModelError(f"pocketsphinx: cannot load the en-us model ({exc})") from exc
        return cls(decoder)

    def _search_for(self, options: TranscribeOptions) -> str:
        """Name of the decoder search for the options, added on first use."""
        if options.language != "en":
            raise AudioValueError(f"engine 'sphinx' has only an English model; "
                                  f"language={options.language!r} is not available")
        if options.grammar is None and not options.keyphrases:
            return _LM_SEARCH
        if options.grammar is not None:
            text = options.grammar
            if "\n" not in text and text.endswith((".gram", ".jsgf")):
                try:
                    text = Path(text).read_text(encoding="utf-8")
                except OSError as exc:
                    raise AudioValueError(f"{options.grammar}: cannot read the grammar "
                                          f"({exc.strerror})") from exc
            name = "jsgf_" + hashlib.sha1(text.encode()).hexdigest()[:12]
        else:
            text = "\n".join(f"{p.strip().lower()} /{KEYPHRASE_THRESHOLD:g}/"
                             for p in options.keyphrases)
            name = "kws_" + hashlib.sha1(text.encode()).hexdigest()[:12]
        if name in self._searches:
            return name
        missing = sorted({w for phrase in options.keyphrases for w in phrase.lower().split()
                          if self._decoder.lookup_word(w) is None})
        if missing:
            raise AudioValueError(f"keyphrases: {', '.join(missing)} not in the en-us "
                                  "dictionary; use dictionary words")
        try:
            if options.grammar is not None:
                self._decoder.add_jsgf_string(name, text)
            else:
                with tempfile.TemporaryDirectory(prefix="wavesmith-kws-") as tmp:
                    path = Path(tmp) / "keyphrases.txt"
                    path.write_text(text + "\n", encoding="utf-8")
                    self._decoder.add_kws(name, str(path))
        except (RuntimeError, ValueError) as exc:
            what = "grammar" if options.grammar is not None else "keyphrases"
            raise AudioValueError(f"{what}: pocketsphinx rejected it ({exc}); check the JSGF "
                                  "syntax and that every word is in the en-us dictionary"
                                  ) from exc
        self._searches.add(name)
        return name

    def check_options(self, options: TranscribeOptions) -> None:
        """Language, grammar and keyphrases are checked (and the search built) up front."""
        with self._lock:
            self._search_for(options)

    def _run(self, samples: np.ndarray, options: TranscribeOptions) -> list[_Utterance]:
        """Find speech regions, decode each (padded) as one utterance."""
        from pocketsphinx import Segmenter

        pcm = (np.clip(samples, -1.0, 1.0) * _INT16_SCALE).astype("<i2")
        lead = np.zeros(round(ENDPOINT_PAD_S * ENGINE_SAMPLE_RATE_HZ), dtype="<i2")
        padded = np.concatenate([lead, pcm, lead])
        rate = ENGINE_SAMPLE_RATE_HZ
        result = []
        with self._lock:
            search = self._search_for(options)
            self._decoder.activate_search(search)
            regions = Segmenter(sample_rate=rate, ratio=ENDPOINT_RATIO).segment(
                pyio.BytesIO(padded.tobytes()))
            for region in regions:
                first = max(0, round((region.start_time - MARGIN_S) * rate))
                last = min(len(padded), round((region.end_time + MARGIN_S) * rate))
                self._decoder.start_utt()
                self._decoder.process_raw(padded[first:last].tobytes(), full_utt=True)
                self._decoder.end_utt()
                words = [(s.word, int(s.start_frame), int(s.end_frame), float(s.prob))
                         for s in self._decoder.seg() or ()]  # None: no hypothesis
                result.append(_Utterance(offset_s=first / rate - ENDPOINT_PAD_S, words=words))
        return result

    def _decode(self, raw: list[_Utterance], *, offset_s: float,
                duration_s: float) -> list[Segment]:
        """One segment per utterance with words; times shifted by ``offset_s``, clipped."""
        segments = []
        for utt in raw:
            words = []
            for token, first, last, prob in utt.words:
                text = _word_text(token)
                if text is None:
                    continue
                start_s = min(max(0.0, utt.offset_s + first / FRAMES_PER_S), duration_s)
                end_s = min(max(start_s, utt.offset_s + (last + 1) / FRAMES_PER_S), duration_s)
                words.append(Word(start_s=round(offset_s + start_s, 3),
                                  end_s=round(offset_s + end_s, 3), text=text,
                                  confidence=round(min(max(prob, 0.0), 1.0), 4)))
            if not words:
                continue
            segments.append(Segment(
                id=len(segments), start_s=words[0].start_s, end_s=words[-1].end_s,
                text=" ".join(w.text for w in words),
                confidence=round(float(np.mean([w.confidence for w in words])), 4),
                words=words,
            ))
        return segments
