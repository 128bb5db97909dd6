"""Symbolic music: MIDI parsing and melody grids, metrics, the Markov baseline, the Music
Transformer on 16th-note grid tokens (:mod:`wavesmith.music.transformer`) or REMI events
(:mod:`wavesmith.music.remi`, via miditok), the 2-bar melody VAE
(:mod:`wavesmith.music.vae`) with style transfer by attribute vectors
(:mod:`wavesmith.music.transfer`), the 16-bar hierarchical VAE
(:mod:`wavesmith.music.vae16`), the bar GAN (:mod:`wavesmith.music.gan`), chord
harmonization with four-part chorale voicing (:mod:`wavesmith.music.chorale`), rendering
and audio-to-MIDI. Heavy libraries (torch, pretty_midi, fluidsynth, onnxruntime) load on
first use: import the model modules directly.
"""

from wavesmith.music.baseline import (
    MarkovMelodyModel,
    continue_melody,
    load_model,
    sample_melody,
    sample_random,
)
from wavesmith.music.harmonize import harmonize, load_harmony
from wavesmith.music.metrics import metric_distance, piece_metrics
from wavesmith.music.midi import (
    Melody,
    load_midi,
    melody_to_midi,
    read_melody,
    save_midi,
    split_pieces,
    transpose,
)

__all__ = [
    "MarkovMelodyModel",
    "Melody",
    "continue_melody",
    "harmonize",
    "load_harmony",
    "load_midi",
    "load_model",
    "melody_to_midi",
    "metric_distance",
    "piece_metrics",
    "read_melody",
    "sample_melody",
    "sample_random",
    "save_midi",
    "split_pieces",
    "transpose",
]
