"""Corpus-level transcription scores (``wavesmith music eval --transcription``) on real
Nottingham tunes rendered with FluidSynth."""

from __future__ import annotations

import json
import statistics
from pathlib import Path

import pytest

from tests.conftest import run_cli
from wavesmith.music.midi import load_midi, split_pieces


@pytest.mark.integration
@pytest.mark.slow
def test_transcription_on_two_held_out_tunes(nottingham: Path) -> None:
    r = run_cli("music", "eval", "--transcription", "--n", "2", "--data", nottingham, "--json",
                timeout=300)
    assert r.returncode == 0, r.stderr
    report = json.loads(r.stdout)
    test = split_pieces(sorted(nottingham.glob("*.mid")))["test"]
    picked = [test[0], test[len(test) // 2]]                 # evenly spaced through the split
    assert [p["piece"] for p in report["pieces"]] == [p.stem for p in picked]
    assert len(r.stderr.strip().splitlines()) == 2           # one progress line per tune
    for row, path in zip(report["pieces"], picked, strict=True):
        pm = load_midi(path)
        assert row["reference_notes"] == sum(len(i.notes) for i in pm.instruments
                                             if not i.is_drum)
        p, rec, f = row["precision"], row["recall"], row["f_measure"]
        assert f == pytest.approx(2 * p * rec / (p + rec), rel=1e-9)
        assert row["f_measure_with_offsets"] <= f            # offsets can only remove matches
        assert row["duration_s"] >= pm.get_end_time()        # the render keeps the tail
        assert f > 0.7                                       # measured 0.89 and 0.80
    for key in ("precision", "recall", "f_measure", "f_measure_with_offsets"):
        values = [row[key] for row in report["pieces"]]
        assert report["mean"][key] == pytest.approx(statistics.fmean(values), rel=1e-9)
        assert report["median"][key] == pytest.approx(statistics.median(values), rel=1e-9)
    assert report["onset_tolerance_s"] == 0.05


def test_transcription_needs_at_least_one_tune() -> None:
    r = run_cli("music", "eval", "--transcription", "--n", "0")
    assert r.returncode == 2, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "n=0 must be >= 1" in lines[0]
