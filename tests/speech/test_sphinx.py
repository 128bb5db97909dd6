"""The sphinx engine (pocketsphinx en-us) with its language model and with command sets."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.speech.test_whisper import DIGIT_WORDS, digit_sample, reference, wer
from wavesmith import Audio, io
from wavesmith.errors import AudioValueError
from wavesmith.speech import TranscribeOptions, transcribe
from wavesmith.speech.engines.sphinx import digits_grammar

pytestmark = pytest.mark.integration

DIGITS = TranscribeOptions(grammar=digits_grammar())


def test_digits_grammar_recognises_8khz_commands(shared_data: Path) -> None:
    correct = 0
    sample = digit_sample(shared_data, 20)
    for path, digit in sample:
        segs = list(transcribe(path, engine="sphinx", options=DIGITS)[0])
        assert all(w.text in DIGIT_WORDS for s in segs for w in s.words)  # grammar holds
        correct += [s.text for s in segs] == [DIGIT_WORDS[digit]]
    # 76 % on 100 spread-out FSDD files (`wavesmith asr eval ... --every 25`)
    assert correct >= 0.6 * len(sample)


def test_grammar_file_and_word_times(shared_data: Path, tmp_path: Path) -> None:
    gram = tmp_path / "digits.gram"
    gram.write_text(digits_grammar(), encoding="utf-8")
    audio = io.load(shared_data / "speech/digits/1_theo_3.wav")
    segs = list(transcribe(audio, engine="sphinx", options=TranscribeOptions(grammar=str(gram)))[0])
    assert [s.text for s in segs] == ["one"]
    w = segs[0].words[0]
    assert 0.0 <= w.start_s < w.end_s <= audio.duration_s


@pytest.mark.slow
def test_language_model_on_a_sentence(shared_data: Path) -> None:
    segs = list(transcribe(shared_data / "speech/sentences/jfk.flac", engine="sphinx")[0])
    text = " ".join(s.text for s in segs)
    # pocketsphinx's LM is far weaker than whisper (about 35 % WER here), but close
    assert wer(reference(shared_data, "jfk.flac"), text) <= 0.5
    starts = [w.start_s for s in segs for w in s.words]
    assert starts == sorted(starts) and starts[-1] < 11.0


def test_keyphrases(shared_data: Path) -> None:
    segs = list(transcribe(shared_data / "speech/sentences/jfk.flac", engine="sphinx",
                           options=TranscribeOptions(keyphrases=("fellow americans",
                                                                 "country")))[0])
    found = [(w.text, w.start_s) for s in segs for w in s.words]
    assert found[0][0] == "fellow americans" and found[0][1] == pytest.approx(1.4, abs=0.5)
    assert {text for text, _ in found} <= {"fellow americans", "country"}


def test_silence_is_empty() -> None:
    silence = Audio(np.zeros((2, 3 * 44_100), np.float32), 44_100)
    assert list(transcribe(silence, engine="sphinx")[0]) == []
    assert list(transcribe(silence, engine="sphinx", options=DIGITS)[0]) == []


def test_bad_grammar_and_options() -> None:
    audio = Audio(np.zeros((1, 16_000), np.float32), 16_000)
    bad = TranscribeOptions(grammar="#JSGF V1.0;\ngrammar g;\npublic <a> = qwzxv;\n")
    with pytest.raises(AudioValueError, match="grammar: pocketsphinx rejected it"):
        list(transcribe(audio, engine="sphinx", options=bad)[0])
    with pytest.raises(AudioValueError, match="qwzxv not in the en-us dictionary"):
        list(transcribe(audio, engine="sphinx",
                        options=TranscribeOptions(keyphrases=("qwzxv",)))[0])
    with pytest.raises(AudioValueError, match="--model/--model-dir are for whisper"):
        transcribe(audio, engine="sphinx", model="small")
