"""MIDI to audio through FluidSynth, and piano-roll pictures.

FluidSynth (the C library ``libfluidsynth``, Debian ``libfluidsynth3``, driven by pip's
``pyfluidsynth`` through pretty_midi) is the maintained open General MIDI synthesiser. The
soundfont is, in order: the one asked for; Debian's ``fluid-soundfont-gm`` (FluidR3_GM);
Debian's ``timgm6mb-soundfont``; the TimGM6mb.sf2 that pretty_midi bundles.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from wavesmith.audio import Audio, check_sample_rate
from wavesmith.errors import AudioFileError, AudioValueError, MissingToolError
from wavesmith.io.atomic import atomic_output
from wavesmith.music._deps import quiet_import

if TYPE_CHECKING:
    import pretty_midi

__all__ = ["DEFAULT_RENDER_HZ", "find_soundfont", "plot_piano_roll", "render_midi"]

DEFAULT_RENDER_HZ = 44_100      # Hz
RENDER_PEAK = 0.89              # linear peak of rendered audio (about -1 dBFS)
MAX_RENDER_S = 3_600.0          # seconds; longer MIDI is refused rather than synthesised
DEBIAN_SOUNDFONTS = (Path("/usr/share/sounds/sf2/FluidR3_GM.sf2"),
                     Path("/usr/share/sounds/sf2/TimGM6mb.sf2"))


def find_soundfont(soundfont: str | os.PathLike[str] | None = None) -> Path:
    """The General MIDI soundfont to use (see the module docstring for the order).

    Raises
    ------
    MissingToolError
        If ``soundfont`` is given but missing, or none is installed.
    """
    if soundfont is not None:
        p = Path(soundfont)
        if not p.is_file():
            raise MissingToolError(f"{p}: soundfont not found; pass an existing .sf2 file "
                                   "or install Debian fluid-soundfont-gm")
        return p
    for p in DEBIAN_SOUNDFONTS:
        if p.is_file():
            return p
    import importlib.util

    spec = importlib.util.find_spec("pretty_midi")
    if spec is not None and spec.origin is not None:
        bundled = Path(spec.origin).with_name("TimGM6mb.sf2")
        if bundled.is_file():
            return bundled
    raise MissingToolError("no General MIDI soundfont found; install Debian "
                           "fluid-soundfont-gm (or timgm6mb-soundfont), or pip pretty_midi")


def render_midi(pm: pretty_midi.PrettyMIDI, *, sample_rate: int = DEFAULT_RENDER_HZ,
                soundfont: str | os.PathLike[str] | None = None) -> Audio:
    """Synthesise a MIDI file to mono audio with FluidSynth.

    Parameters
    ----------
    pm : pretty_midi.PrettyMIDI
        The music; drums go to channel 10 as General MIDI says.
    sample_rate : int
        Output rate in Hz.
    soundfont : path-like, optional
        A ``.sf2`` file; default from :func:`find_soundfont`.

    Returns
    -------
    Audio
        Mono, peak-normalised to :data:`RENDER_PEAK` (about -1 dBFS); the FluidSynth release
        tail is kept.

    Raises
    ------
    MissingToolError
        libfluidsynth, pyfluidsynth or the soundfont is missing (one line naming it).
    AudioValueError
        The MIDI has no notes or is longer than :data:`MAX_RENDER_S`.
    """
    rate = check_sample_rate(sample_rate)
    sf2 = find_soundfont(soundfont)
    if not any(ins.notes for ins in pm.instruments):
        raise AudioValueError("render: the MIDI has no notes to render")
    if pm.get_end_time() > MAX_RENDER_S:
        raise AudioValueError(f"render: MIDI lasts {pm.get_end_time():.0f} s, over the "
                              f"{MAX_RENDER_S:.0f} s limit")
    try:
        quiet_import("fluidsynth")  # pyfluidsynth: loads libfluidsynth on import
    except ModuleNotFoundError as exc:
        raise MissingToolError("render: pip package pyfluidsynth is not installed "
                               "(pip install pyfluidsynth)") from exc
    except (ImportError, OSError) as exc:
        raise MissingToolError("render: the FluidSynth library is missing; install Debian "
                               f"libfluidsynth3 ({exc})") from exc
    y = pm.fluidsynth(fs=rate, synthesizer=str(sf2))
    peak = float(np.max(np.abs(y))) if y.size else 0.0
    if peak > 0:
        y = y * (RENDER_PEAK / peak)
    return Audio(np.asarray(y, dtype=np.float32)[np.newaxis, :], rate)


def plot_piano_roll(pm: pretty_midi.PrettyMIDI, path: str | os.PathLike[str], *,
                    title: str = "") -> Path:
    """Draw the notes (time in seconds vs MIDI pitch) to a PNG, atomically.

    Raises
    ------
    AudioFileError
        If the folder does not exist or the PNG cannot be written.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    dst = Path(path)
    if not dst.parent.is_dir():
        raise AudioFileError(f"{dst}: folder {dst.parent} does not exist")
    fig, ax = plt.subplots(figsize=(10, 4), dpi=100)
    try:
        pitches = []
        for i, ins in enumerate(pm.instruments):
            color = f"C{i % 10}"
            for n in ins.notes:
                ax.broken_barh([(n.start, n.end - n.start)], (n.pitch - 0.4, 0.8),
                               facecolors=color)
                pitches.append(n.pitch)
        if pitches:
            ax.set_ylim(min(pitches) - 2, max(pitches) + 2)
        ax.set_xlim(0, max(pm.get_end_time(), 1e-3))
        ax.set_xlabel("time (s)")
        ax.set_ylabel("MIDI pitch")
        ax.set_title(title or "piano roll")
        ax.grid(True, alpha=0.3)
        with atomic_output(dst) as tmp:
            fig.savefig(tmp, format="png")
    finally:
        plt.close(fig)
    return dst
