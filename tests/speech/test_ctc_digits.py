"""The digits engine (shipped CTC model) behind the Transcriber interface, on real strings."""

from __future__ import annotations

from pathlib import Path

import jiwer
import numpy as np
import pytest

from wavesmith import Audio
from wavesmith.errors import AudioValueError
from wavesmith.learn.data import FeatureParams, ManifestRow
from wavesmith.learn.strings import StringComposer, StringConfig, fixed_strings
from wavesmith.speech import TranscribeOptions
from wavesmith.speech.engines.ctc_digits import DIGIT_WORDS, CtcDigitsTranscriber

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def engine() -> CtcDigitsTranscriber:
    return CtcDigitsTranscriber.load()


@pytest.fixture(scope="module")
def strings(shared_data: Path) -> list:
    """Digit strings of the held-out test speaker (yweweler), clips 40-49 of each digit."""
    digits = shared_data / "speech" / "digits"
    rows = [ManifestRow(digits / f"{d}_yweweler_{i}.wav", str(d), "yweweler", "test")
            for d in range(10) for i in range(40, 50)]
    comp = StringComposer(rows, [str(d) for d in range(10)], FeatureParams(), StringConfig())
    return fixed_strings(comp, 12, seed=77)


def test_engine_reads_digit_strings_at_any_rate(engine: CtcDigitsTranscriber,
                                                strings: list) -> None:
    right = errors = total = 0
    for k, s in enumerate(strings):
        audio = s.audio.resample(16_000) if k % 2 else s.audio   # 16 kHz like other engines
        if k % 3 == 0:
            audio = Audio(np.repeat(audio.samples, 2, axis=0), audio.sample_rate)  # stereo
        segs = list(engine.transcribe_chunks([(1.5, audio)], TranscribeOptions(beam_size=8)))
        assert len(segs) <= 1
        words = [w.text for seg in segs for w in seg.words]
        assert all(w in DIGIT_WORDS for w in words)
        want = [DIGIT_WORDS[int(d)] for d in s.labels]
        right += words == want
        errors += jiwer.process_words(" ".join(want), " ".join(words) or "-").wer * len(want)
        total += len(want)
        for seg in segs:   # times are shifted by the chunk offset and ordered
            assert seg.text == " ".join(words) and 0.0 < seg.confidence <= 1.0
            assert 1.5 <= seg.start_s <= seg.end_s <= 1.5 + audio.duration + 1e-3
            starts = [w.start_s for w in seg.words]
            assert starts == sorted(starts)
    # unseen speaker, 3-7 digits per string; the default model's card states a digit error
    # rate of 0.6 % and a string accuracy of 97 % on 500 such strings of this speaker
    print(f"digit error rate {errors / total:.3f}, strings right {right}/{len(strings)}")
    assert errors / total <= 0.05 and right >= 9


def test_engine_options_and_silence(engine: CtcDigitsTranscriber) -> None:
    silence = Audio(np.zeros((1, 16_000), np.float32), 16_000)
    assert list(engine.transcribe_chunks([(0.0, silence)], TranscribeOptions())) == []
    with pytest.raises(AudioValueError, match="only English digits"):
        list(engine.transcribe_chunks([(0.0, silence)], TranscribeOptions(language="de")))
    with pytest.raises(AudioValueError, match="fixed vocabulary"):
        list(engine.transcribe_chunks([(0.0, silence)],
                                      TranscribeOptions(keyphrases=("one",))))
    assert engine.sample_rate == 8000 and engine.model_name == "digits_ctc_whisper"
    with pytest.raises(AudioValueError, match="--model-dir is for whisper"):
        CtcDigitsTranscriber.load(model_dir="/nowhere")
