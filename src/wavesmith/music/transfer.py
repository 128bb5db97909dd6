"""Style transfer with attribute vectors in the melody VAE's latent space (MusicVAE, §5.4).

An *attribute vector* is the mean latent code of real 2-bar segments that have an attribute
minus the mean code of segments that have its opposite. Adding ``amount`` times the vector
to every segment of a melody and decoding moves the melody towards the attribute while the
rest of the code (rhythm, contour) is kept.

Mode and style (:data:`MAPPED`) go further: a *moment map* (:func:`moment_map`, the
whitening-colouring transform) sends the Gaussian fitted to the source class's codes onto
the target class's, so a code moves to the same place within the target distribution
(mean, spread and correlations), and ``amount`` walks from the code (0) to its image (1)
and beyond. On held-out tunes it doubles folk → chorale (19 % → 37 % of segments heard as
chorale at amount 1) and lifts major ↔ minor from 46 % to 59 %; ``dense`` / ``sparse`` keep
the vector.

Attributes (:data:`ATTRIBUTES`; each name's opposite is the same vector negated):

* ``minor`` / ``major``: segments of tunes in a minor key vs tunes in a major key. Every
  tune is first transposed so that its tonic is C (tonic and mode by
  :func:`wavesmith.music.harmonize.estimate_key`, Krumhansl–Kessler profiles on the
  melody), so the vector encodes the *mode* (the third, sixth and seventh degrees) and not
  the keys the corpus happens to use. A melody is transferred the same way: transposed to
  C, shifted, decoded, transposed back, so ``G major`` becomes ``G minor``.
* ``dense`` / ``sparse``: segments in the top quarter of note onsets per bar vs the bottom
  quarter (tonic-normalised too).
* ``chorale`` / ``folk``: soprano lines of the Bach chorales (music21 corpus, training
  split of :func:`wavesmith.music.chorale_corpus.split_chorales`; 4/4 ones) vs all the
  Nottingham tunes' segments (tonic-normalised too). Its effect is measured with a small
  folk/chorale classifier (:mod:`wavesmith.music.style`).

Vectors are computed from the training split only by :func:`attribute_vectors` and shipped
in ``data/vae_attributes.json`` with the SHA-256 of the VAE they belong to (``python
scripts/train_music.py attributes --ship``); :func:`load_attributes` refuses vectors made
for other weights. :func:`evaluate_transfer` measures the effect on held-out tunes with the
same key classifier (share of transferred tunes heard in the target mode on the original
tonic) and onsets per bar.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from wavesmith.errors import AudioValueError, ModelError, ModelNotFoundError
from wavesmith.music.midi import NO_EVENT, Melody, transpose
from wavesmith.music.weights import DATA_DIR

__all__ = ["ATTRIBUTES", "MAPPED", "SHIPPED_ATTRIBUTES", "AttributeVectors",
           "attribute_vectors", "evaluate_transfer", "load_attributes", "moment_map",
           "onsets_per_bar", "to_tonic_c", "transfer"]

SHIPPED_ATTRIBUTES = DATA_DIR / "vae_attributes.json"
# attribute name -> (vector name, sign)
ATTRIBUTES: dict[str, tuple[str, float]] = {
    "minor": ("minor", 1.0), "major": ("minor", -1.0),
    "dense": ("dense", 1.0), "sparse": ("dense", -1.0),
    "chorale": ("chorale", 1.0), "folk": ("chorale", -1.0),
}
MAX_AMOUNT = 4.0            # |amount| beyond this decodes to noise
DENSITY_QUANTILE = 0.25     # top / bottom share of segments by onsets for "dense"


# attributes moved by a moment map (source class -> target class) instead of a vector
MAPPED = {"minor": "major", "major": "minor", "chorale": "folk", "folk": "chorale"}
MAP_EIG_FLOOR = 1e-3        # covariance eigenvalue floor of moment_map (latent units**2)


@dataclass(frozen=True)
class AttributeVectors:
    """Latent attribute vectors (``name -> (latent,)`` float32) for one VAE's weights, and
    the moment maps (``attribute -> (from_mean, to_mean, matrix)``, :func:`moment_map`) of
    the attributes in :data:`MAPPED`."""

    vectors: dict[str, np.ndarray]
    vae_sha256: str
    card: dict[str, Any]
    maps: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = field(default_factory=dict)

    def target(self, attribute: str, mu: np.ndarray) -> np.ndarray:
        """Where ``attribute`` sends latent codes ``mu`` ``(n, latent)`` at amount 1: the
        moment map when there is one, else ``mu`` plus the vector (which validates the
        name)."""
        if attribute in self.maps:
            src, dst, matrix = self.maps[attribute]
            return dst + (mu - src) @ matrix.T
        return mu + self.vector(attribute)

    def vector(self, attribute: str) -> np.ndarray:
        """The signed vector of ``attribute`` (a key of :data:`ATTRIBUTES`).

        Raises
        ------
        AudioValueError
            For an unknown attribute (the message lists the known ones).
        """
        if attribute not in ATTRIBUTES:
            raise AudioValueError(f"transfer: unknown attribute {attribute!r}; choose from "
                                  f"{', '.join(ATTRIBUTES)}")
        name, sign = ATTRIBUTES[attribute]
        return sign * self.vectors[name]


def onsets_per_bar(melody: Melody) -> float:
    """Mean number of note onsets per bar."""
    bars = melody.steps / melody.steps_per_bar
    return float((melody.tokens >= 0).sum()) / bars if bars else 0.0


def to_tonic_c(melody: Melody) -> tuple[Melody, int, str]:
    """``(melody transposed so its tonic is C, semitones shifted, mode)``; the shift is the
    smallest one (−5..+6) that keeps the pitches in MIDI range.

    Raises
    ------
    AudioValueError
        If the melody has no notes (no key).
    """
    from wavesmith.music.harmonize import estimate_key

    tonic, mode = estimate_key(melody)
    shift = -tonic if tonic <= 6 else 12 - tonic
    for s in (shift, shift - 12 if shift > 0 else shift + 12):
        try:
            return transpose(melody, s), s, mode
        except AudioValueError:
            continue
    return melody, 0, mode


def _segments(melody: Melody) -> tuple[np.ndarray, int]:
    """All 2-bar segments (hop 2 bars, empty ones too) as classes, and the steps covered."""
    from wavesmith.music.vae import SEGMENT_STEPS, melody_segments

    segs = melody_segments(melody, hop_bars=SEGMENT_STEPS // melody.steps_per_bar,
                           min_notes=0)
    return segs, len(segs) * SEGMENT_STEPS


def _tonic_c_segments(melodies: list[Melody]) -> dict[str, list[np.ndarray]]:
    """Non-empty 2-bar segments of each usable melody in C, grouped by the melody's mode."""
    from wavesmith.music.vae import SEGMENT_STEPS

    segs: dict[str, list[np.ndarray]] = {"major": [], "minor": []}
    for m in melodies:
        if SEGMENT_STEPS % m.steps_per_bar or not (m.tokens >= 0).any():
            continue
        c, _, mode = to_tonic_c(m)
        s, _ = _segments(c)
        s = s[(s >= 2).sum(1) > 0]
        if len(s):
            segs[mode].append(s)
    return segs


def attribute_vectors(vae: Any, melodies: list[Melody], *,
                      chorales: list[Melody] | None = None, batch: int = 512
                      ) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Compute the attribute vectors from real ``melodies`` (the training split).

    Parameters
    ----------
    vae : MelodyVAE
        The trained VAE (latent means are used).
    melodies : list of Melody
        Tunes in a meter the VAE takes (others are skipped).
    chorales : list of Melody, optional
        Chorale soprano lines (training split); when given, the ``chorale`` vector (mean
        chorale segment minus mean segment of ``melodies``) is added.

    Returns
    -------
    vectors : dict
        ``{"minor": (latent,), "dense": (latent,)}`` float32, and ``"chorale"`` when
        ``chorales`` is given.
    maps : dict
        Moment maps (:func:`moment_map`) ``"minor"`` (major codes onto minor ones) and
        ``"major"``, and with ``chorales`` ``"chorale"`` (all Nottingham codes onto chorale
        codes) and ``"folk"``.
    stats : dict
        Counts of the segments behind each mean (JSON-ready).
    """
    import torch

    by_mode = {k: np.concatenate(v) for k, v in _tonic_c_segments(melodies).items()}
    every = np.concatenate(list(by_mode.values()))

    def means(x: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            mus = [vae.model.encode(torch.from_numpy(x[a:a + batch]))[0].numpy()
                   for a in range(0, len(x), batch)]
        return np.concatenate(mus).astype(np.float64)

    mu = {k: means(v) for k, v in by_mode.items()}
    mu_all = np.concatenate(list(mu.values()))
    maps = {"minor": moment_map(mu["major"], mu["minor"]),
            "major": moment_map(mu["minor"], mu["major"])}
    onsets = (every >= 2).sum(1)
    lo, hi = np.quantile(onsets, [DENSITY_QUANTILE, 1 - DENSITY_QUANTILE])
    dense, sparse = mu_all[onsets >= hi], mu_all[onsets <= lo]
    vectors = {"minor": (mu["minor"].mean(0) - mu["major"].mean(0)).astype(np.float32),
               "dense": (dense.mean(0) - sparse.mean(0)).astype(np.float32)}
    counts = {"major": len(by_mode["major"]), "minor": len(by_mode["minor"]),
              "dense": len(dense), "sparse": len(sparse)}
    if chorales is not None:
        segs = [s for v in _tonic_c_segments(chorales).values() for s in v]
        if not segs:
            raise AudioValueError("attribute_vectors: no chorale segments in a 2-bar meter")
        mu_chorale = means(np.concatenate(segs))
        vectors["chorale"] = (mu_chorale.mean(0) - mu_all.mean(0)).astype(np.float32)
        counts["chorale"] = len(mu_chorale)
        maps["chorale"] = moment_map(mu_all, mu_chorale)
        maps["folk"] = moment_map(mu_chorale, mu_all)
    stats = {"segments": counts,
             "onsets_per_segment_thresholds": [float(lo), float(hi)],
             "vector_norms": {k: float(np.linalg.norm(v)) for k, v in vectors.items()},
             "latent_std_mean": float(mu_all.std(0).mean())}
    return vectors, maps, stats


def moment_map(source: np.ndarray, target: np.ndarray, *, floor: float = MAP_EIG_FLOOR
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(from_mean, to_mean, matrix)``: the affine map that sends the Gaussian fitted to
    the ``source`` codes ``(n, latent)`` onto the one fitted to the ``target`` codes,
    ``x -> to_mean + matrix @ (x - from_mean)`` with ``matrix = C_t^(1/2) C_s^(-1/2)``
    (symmetric roots; eigenvalues floored at ``floor``): the whitening-colouring transform
    of Li et al. 2017 applied to latent codes. Unlike a mean shift it also rescales and
    turns the spread (e.g. the folk codes' many rhythms onto the chorales' few), so a code
    keeps its place *within* the distribution. float32."""
    def root(cov: np.ndarray, power: float) -> np.ndarray:
        w, v = np.linalg.eigh(cov)
        return (v * np.maximum(w, floor) ** power) @ v.T

    matrix = root(np.cov(target.T), 0.5) @ root(np.cov(source.T), -0.5)
    return (source.mean(0).astype(np.float32), target.mean(0).astype(np.float32),
            matrix.astype(np.float32))


def transfer(vae: Any, melody: Melody, attribute: str, amount: float = 1.0, *,
             vectors: AttributeVectors | None = None) -> Melody:
    """Move ``melody`` towards ``attribute`` by ``amount`` times its vector.

    Every 2-bar segment is encoded (latent mean), shifted and decoded greedily (so the
    result is deterministic); steps after the last whole segment are kept as they are.
    The melody is worked on in C (see the module docstring) and transposed back.

    Parameters
    ----------
    vae : MelodyVAE
        The VAE the vectors belong to.
    melody : Melody
        4/4, 2/4 or 2/2, at least 2 bars, with notes.
    attribute : str
        One of :data:`ATTRIBUTES`.
    amount : float, default 1.0
        Multiple of the vector, −4..4 (0 gives the VAE's reconstruction).
    vectors : AttributeVectors, optional
        Defaults to the shipped vectors of the shipped VAE.

    Raises
    ------
    AudioValueError
        Unknown attribute, amount out of range, a meter the VAE does not take, a melody
        shorter than 2 bars or without notes.
    """
    import torch

    from wavesmith.music.vae import SEGMENT_STEPS
    from wavesmith.music.weights import one_thread

    if not isinstance(amount, int | float) or not np.isfinite(amount) \
            or abs(amount) > MAX_AMOUNT:
        raise AudioValueError(f"transfer: amount={amount!r} must be a number in "
                              f"-{MAX_AMOUNT:g}..{MAX_AMOUNT:g}")
    vecs = vectors if vectors is not None else load_attributes()
    vecs.vector(attribute)                        # an unknown attribute fails here
    if melody.steps < SEGMENT_STEPS:
        raise AudioValueError(f"{melody.name or 'melody'}: {melody.steps} steps is shorter "
                              f"than one {SEGMENT_STEPS}-step (2-bar) segment")
    if not (melody.tokens >= 0).any():
        raise AudioValueError(f"{melody.name or 'melody'}: no notes to transfer")
    c, shift, _ = to_tonic_c(melody)
    segs, covered = _segments(c)

    @one_thread
    def run() -> np.ndarray:
        with torch.no_grad():
            x = torch.from_numpy(segs)
            mu = vae.model.encode(x)[0].numpy()
            z = mu + float(amount) * (vecs.target(attribute, mu) - mu)
            out = vae.model.decode(torch.from_numpy(z.astype(np.float32))).numpy()
        empty = (segs >= 2).sum(1) == 0           # silent bars stay silent
        out[empty] = segs[empty]
        return out

    toks = np.concatenate([(run().reshape(-1) + NO_EVENT).astype(np.int16),
                           c.tokens[covered:]])
    shifted = Melody(toks, melody.steps_per_bar, melody.tempo_bpm,
                     f"{melody.name or 'melody'}-{attribute}", melody.time_signature)
    try:
        return transpose(shifted, -shift)
    except AudioValueError:
        return shifted


def load_attributes(path: str | os.PathLike[str] | None = None, *,
                    vae_sha256: str | None = None) -> AttributeVectors:
    """Load attribute vectors (default: the shipped ones) and check they belong to the VAE
    whose weights have ``vae_sha256`` (default: the shipped VAE's card).

    Raises
    ------
    ModelNotFoundError
        If the file is missing.
    ModelError
        If it is unreadable or was computed for other VAE weights.
    """
    from wavesmith.music.vae import SHIPPED_VAE
    from wavesmith.music.weights import read_card

    p = Path(path) if path is not None else SHIPPED_ATTRIBUTES
    if not p.is_file():
        raise ModelNotFoundError(f"{p}: attribute vectors not found (build them with "
                                 "`python scripts/train_music.py attributes --ship`)")
    try:
        raw = json.loads(p.read_text())
        vectors = {k: np.asarray(v, dtype=np.float32) for k, v in raw["vectors"].items()}
        maps = {k: tuple(np.asarray(m[part], dtype=np.float32)
                         for part in ("from_mean", "to_mean", "matrix"))
                for k, m in raw.get("maps", {}).items()}
        sha = str(raw["vae_sha256"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ModelError(f"{p}: not readable attribute vectors ({exc})") from exc
    want = vae_sha256 if vae_sha256 is not None else read_card(SHIPPED_VAE).get("sha256")
    if sha != want:
        raise ModelError(f"{p}: attribute vectors were computed for other VAE weights "
                         "(rebuild: python scripts/train_music.py attributes --ship)")
    if set(vectors) != {name for name, _ in ATTRIBUTES.values()}:
        raise ModelError(f"{p}: expected vectors {sorted({n for n, _ in ATTRIBUTES.values()})}")
    if not set(maps) <= set(MAPPED) or any(
            m[2].shape != (len(m[0]), len(m[0])) for m in maps.values()):
        raise ModelError(f"{p}: moment maps must be square and for {', '.join(MAPPED)}")
    return AttributeVectors(vectors, sha, raw, maps)


def evaluate_transfer(vae: Any, melodies: list[Melody], vectors: AttributeVectors, *,
                      amounts: tuple[float, ...] = (0.0, 1.0, 1.5, 2.0),
                      bars: int = 8) -> dict[str, Any]:
    """Effect of each attribute on held-out ``melodies`` (first ``bars`` bars of each).

    Mode: tunes heard as major get ``minor`` and vice versa; the score is the share of
    outputs whose estimated key (:func:`~wavesmith.music.harmonize.estimate_key`) is the
    target mode on the tune's own tonic (amount 0 is the VAE's plain reconstruction: the
    baseline). Density: mean onsets per bar of the originals, and after ``dense`` and
    ``sparse``.
    """
    from wavesmith.music.harmonize import estimate_key
    from wavesmith.music.vae import SEGMENT_STEPS

    tunes = [m.crop(bars) for m in melodies
             if not SEGMENT_STEPS % m.steps_per_bar and m.bars >= bars
             and (m.crop(bars).tokens >= 0).any()]
    keys = [estimate_key(m) for m in tunes]
    mode: dict[str, Any] = {"tunes": len(tunes),
                            "major_tunes": sum(k[1] == "major" for k in keys)}
    for amount in amounts:
        hits = 0
        for m, (tonic, md) in zip(tunes, keys, strict=True):
            target = "minor" if md == "major" else "major"
            out = transfer(vae, m, target, amount, vectors=vectors)
            hits += (out.tokens >= 0).any() and estimate_key(out) == (tonic, target)
        mode[f"amount_{amount:g}"] = round(hits / max(1, len(tunes)), 4)
    density: dict[str, Any] = {"original": round(float(np.mean(
        [onsets_per_bar(m) for m in tunes])), 3)}
    for attr in ("dense", "sparse"):
        for amount in amounts[1:]:
            outs = [transfer(vae, m, attr, amount, vectors=vectors) for m in tunes]
            density[f"{attr}_{amount:g}"] = round(float(np.mean(
                [onsets_per_bar(o) for o in outs])), 3)
    density["reconstruction"] = round(float(np.mean(
        [onsets_per_bar(transfer(vae, m, "dense", 0.0, vectors=vectors)) for m in tunes])), 3)
    return {"bars": bars, "mode_target_accuracy": mode, "onsets_per_bar": density}
