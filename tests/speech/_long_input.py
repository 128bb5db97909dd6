"""A long real input for the long-file and streaming tests: read sentences joined by real
cafe noise, with each sentence's offset known (the ground truth of its timestamps)."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from wavesmith import Audio, io

RATE = 16_000          # Hz of the built input
NOISE_GAIN = 0.05      # linear gain of the cafe babble between sentences (about -35 dBFS)


@dataclass(frozen=True)
class Placed:
    start_s: float     # where the clip starts in the built input
    end_s: float       # where it ends
    text: str          # its reference transcript


def build(shared_data: Path, names: list[str] | None = None, gaps_s: tuple[float, ...] = (
        1.2, 1.8, 2.5)) -> tuple[Audio, list[Placed]]:
    """Join the sentences ``names`` (all in manifest order when None) with noise gaps."""
    folder = shared_data / "speech/sentences"
    with open(folder / "manifest.csv", newline="", encoding="utf-8") as fh:
        rows = {r["path"]: r["text"] for r in csv.DictReader(fh)}
    noise = io.load(shared_data / "noise/blanket_coffee-shop.ogg", sample_rate=RATE,
                    mono=True).samples[0] * NOISE_GAIN
    parts, placed, t = [], [], 0

    def gap(k: int) -> None:
        nonlocal t
        n = round(gaps_s[k % len(gaps_s)] * RATE)
        i = (k * 37_000) % (len(noise) - n)
        parts.append(noise[i:i + n])
        t += n

    gap(0)
    for k, name in enumerate(names or list(rows)):
        clip = io.load(folder / name, sample_rate=RATE, mono=True).samples[0]
        placed.append(Placed(t / RATE, (t + len(clip)) / RATE, rows[name]))
        parts.append(clip)
        t += len(clip)
        gap(k + 1)
    return Audio(np.concatenate(parts).astype(np.float32)[np.newaxis, :], RATE), placed
