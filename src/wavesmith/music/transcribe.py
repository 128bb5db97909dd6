"""Audio to MIDI with Spotify's basic-pitch (Bittner et al. 2022, ICASSP), run from the ONNX
model inside the ``basic-pitch`` wheel with onnxruntime (no TensorFlow; install
``basic-pitch==0.4.0 --no-deps`` plus mir_eval, resampy, pretty_midi, librosa, onnxruntime).

Three stages: :func:`_prepare` (22 050 Hz mono audio into overlapping 2-s windows),
:func:`_run` (the network: note, onset and contour posteriors per 11.6 ms frame) and
:func:`_decode` (basic-pitch's own note creation: onset peak picking, frame tracking).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from wavesmith.audio import Audio, check_audio
from wavesmith.errors import AudioValueError, MissingToolError, ModelError, SampleRateError
from wavesmith.music._deps import quiet_import

if TYPE_CHECKING:
    import pretty_midi

__all__ = [
    "MODEL_SAMPLE_RATE_HZ",
    "TranscribedNote",
    "Transcription",
    "note_f_measure",
    "transcribe",
]

MODEL_SAMPLE_RATE_HZ = 22_050   # Hz the network was trained at
WINDOW_FRAMES = 43_844          # samples per network window (~1.99 s at 22 050 Hz)
HOP_SAMPLES = 256               # samples per output frame (FFT hop), ~11.6 ms
OVERLAP_OUTPUT_FRAMES = 30      # output frames shared by neighbouring windows
FRAMES_PER_S = 22_050 / 256     # output frames per second (~86.1)
MAX_TRANSCRIBE_S = 1_800.0      # seconds of audio accepted in one call
_ONNX_OUTPUTS = ("StatefulPartitionedCall:1", "StatefulPartitionedCall:2",
                 "StatefulPartitionedCall:0")  # note, onset, contour


@dataclass(frozen=True)
class TranscribedNote:
    """A transcribed note: onset and offset in seconds, MIDI pitch, amplitude 0..1."""

    start_s: float
    end_s: float
    pitch: int
    amplitude: float


@dataclass
class Transcription:
    """Notes in time order and the same notes as a MIDI file (piano, 120 bpm)."""

    notes: list[TranscribedNote]
    midi: Any  # pretty_midi.PrettyMIDI


def _basic_pitch() -> Any:
    """Import basic-pitch quietly (it logs a warning per missing TF/CoreML/TFLite runtime)."""
    logging.disable(logging.WARNING)
    try:
        quiet_import("pretty_midi")
        import basic_pitch
        import basic_pitch.note_creation
    except ImportError as exc:
        raise MissingToolError(
            f"transcribe: basic-pitch or a runtime dependency is missing ({exc}); install "
            "basic-pitch==0.4.0 --no-deps plus mir_eval resampy pretty_midi onnxruntime"
        ) from exc
    finally:
        logging.disable(logging.NOTSET)
    return basic_pitch


@lru_cache(maxsize=1)
def _session() -> Any:
    """The onnxruntime session of basic-pitch's bundled ICASSP 2022 model (cached)."""
    bp = _basic_pitch()
    path = Path(bp.build_icassp_2022_model_path(bp.FilenameSuffix.onnx))
    if not path.is_file():
        raise ModelError(f"{path}: basic-pitch's ONNX model is missing; reinstall basic-pitch")
    import onnxruntime as ort

    try:
        return ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime raises its own untyped errors for bad files
        raise ModelError(f"{path}: cannot load ONNX model ({exc})") from exc


def _prepare(audio: Audio) -> tuple[np.ndarray, int]:
    """Windows of shape ``(n, WINDOW_FRAMES, 1)`` float32 and the input length in samples."""
    overlap = OVERLAP_OUTPUT_FRAMES * HOP_SAMPLES
    hop = WINDOW_FRAMES - overlap
    x = np.concatenate([np.zeros(overlap // 2, np.float32), audio.samples[0]])
    starts = range(0, x.size, hop)
    win = np.zeros((len(starts), WINDOW_FRAMES, 1), np.float32)
    for i, a in enumerate(starts):
        seg = x[a:a + WINDOW_FRAMES]
        win[i, :seg.size, 0] = seg
    return win, audio.frames


def _run(windows: np.ndarray, n_samples: int) -> dict[str, np.ndarray]:
    """Posteriors ``note``/``onset`` ``(frames, 88)`` and ``contour`` ``(frames, 264)``."""
    sess = _session()
    parts: dict[str, list[np.ndarray]] = {"note": [], "onset": [], "contour": []}
    for w in windows:
        outs = sess.run(list(_ONNX_OUTPUTS), {"serving_default_input_2:0": w[np.newaxis]})
        for k, v in zip(("note", "onset", "contour"), outs, strict=True):
            parts[k].append(v)
    n_keep = int(np.floor(n_samples * FRAMES_PER_S / MODEL_SAMPLE_RATE_HZ))
    half = OVERLAP_OUTPUT_FRAMES // 2
    out = {}
    for k, v in parts.items():
        arr = np.concatenate(v)[:, half:-half, :]
        out[k] = arr.reshape(-1, arr.shape[-1])[:n_keep]
    return out


def _decode(posteriors: dict[str, np.ndarray], *, onset_threshold: float,
            frame_threshold: float, min_note_s: float) -> Transcription:
    """Notes from the posteriors (basic-pitch's ``model_output_to_notes``)."""
    bp = _basic_pitch()
    min_len = round(min_note_s * FRAMES_PER_S)
    with np.errstate(invalid="ignore", divide="ignore"):  # 0/0 in basic-pitch on silence
        midi, events = bp.note_creation.model_output_to_notes(
            posteriors, onset_thresh=onset_threshold, frame_thresh=frame_threshold,
            min_note_len=min_len, include_pitch_bends=False, melodia_trick=True)
    notes = sorted((TranscribedNote(float(s), float(e), int(p), float(a))
                    for s, e, p, a, *_ in events), key=lambda n: (n.start_s, n.pitch))
    return Transcription(notes, midi)


def transcribe(audio: Audio, *, onset_threshold: float = 0.5, frame_threshold: float = 0.3,
               min_note_s: float = 0.1277) -> Transcription:
    """Transcribe pitched notes (polyphonic) from audio.

    Parameters
    ----------
    audio : Audio
        Mono at 22 050 Hz (call ``audio.to_mono().resample(22_050)`` first).
    onset_threshold, frame_threshold : float
        Posterior thresholds 0..1 for note onsets and for sustained frames.
    min_note_s : float
        Shortest note kept, in seconds.

    Raises
    ------
    SampleRateError
        If the audio is not 22 050 Hz.
    AudioValueError
        Not mono, longer than :data:`MAX_TRANSCRIBE_S`, or thresholds out of range.
    MissingToolError, ModelError
        basic-pitch or its model is missing.
    """
    check_audio(audio)
    if audio.sample_rate != MODEL_SAMPLE_RATE_HZ:
        raise SampleRateError(f"transcribe expects {MODEL_SAMPLE_RATE_HZ} Hz, got "
                              f"{audio.sample_rate} Hz; call audio.resample(22_050)")
    if audio.channels != 1:
        raise AudioValueError(f"transcribe expects mono, got {audio.channels} channels; "
                              "call audio.to_mono()")
    if audio.duration > MAX_TRANSCRIBE_S:
        raise AudioValueError(f"transcribe: {audio.duration:.0f} s is over the "
                              f"{MAX_TRANSCRIBE_S:.0f} s limit; cut the audio first")
    for name, v in (("onset_threshold", onset_threshold), ("frame_threshold", frame_threshold)):
        if not 0.0 < v < 1.0:
            raise AudioValueError(f"{name}={v} must be between 0 and 1")
    windows, n = _prepare(audio)
    return _decode(_run(windows, n), onset_threshold=onset_threshold,
                   frame_threshold=frame_threshold, min_note_s=min_note_s)


def note_f_measure(reference: pretty_midi.PrettyMIDI, estimate: list[TranscribedNote], *,
                   onset_tolerance_s: float = 0.05, offset_ratio: float | None = None,
                   offset_min_tolerance_s: float = 0.05) -> dict[str, float]:
    """Note-level precision, recall and F-measure, as ``mir_eval.transcription`` computes them.

    A reference and an estimated note match when their onsets are within
    ``onset_tolerance_s`` seconds and their pitches within 50 cents; each note matches at
    most once. With ``offset_ratio`` (mir_eval's usual 0.2) the offsets must also agree,
    within ``offset_ratio`` times the reference note's duration or ``offset_min_tolerance_s``
    seconds, whichever is larger; ``None`` ignores offsets. All pitched (non-drum) notes of
    ``reference`` count.

    Raises
    ------
    AudioValueError
        If the reference has no pitched notes.
    """
    import mir_eval

    ref = [(n.start, n.end, n.pitch) for ins in reference.instruments if not ins.is_drum
           for n in ins.notes]
    if not ref:
        raise AudioValueError("note_f_measure: the reference MIDI has no pitched notes")
    ri = np.array([[s, e] for s, e, _ in ref])
    rp = mir_eval.util.midi_to_hz(np.array([p for *_, p in ref], dtype=float))
    if estimate:
        ei = np.array([[n.start_s, max(n.end_s, n.start_s + 1e-3)] for n in estimate])
        ep = mir_eval.util.midi_to_hz(np.array([n.pitch for n in estimate], dtype=float))
    else:
        ei, ep = np.zeros((0, 2)), np.zeros(0)
    p, r, f, _ = mir_eval.transcription.precision_recall_f1_overlap(
        ri, rp, ei, ep, onset_tolerance=onset_tolerance_s, offset_ratio=offset_ratio,
        offset_min_tolerance=offset_min_tolerance_s)
    return {"precision": float(p), "recall": float(r), "f_measure": float(f),
            "reference_notes": len(ref), "estimated_notes": len(estimate)}
