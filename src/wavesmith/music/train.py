"""Train the music models from a YAML config: ``wavesmith train run configs/music/<name>.yaml``.

One config (:class:`MusicTrainConfig`, ``kind`` picks the model) → seed → data (the real
Nottingham tunes, split by piece) → model → the trainer loop → held-out evaluation → weights
and a JSON card (:func:`wavesmith.music.weights.save_weights`) in ``out_dir``; with ``ship``
also in the package (``wavesmith/music/data``). The model-specific steps live in
:mod:`wavesmith.music.train_melody` (transformer and 2-bar VAE, through
:func:`wavesmith.learn.trainer.fit`), :mod:`wavesmith.music.train_vae16` (the 16-bar
hierarchical VAE, same loop), :mod:`wavesmith.music.train_gan` (the GAN's own loop) and
:mod:`wavesmith.music.train_harmony` (the chord HMM, counted, not trained by gradient).

Budgets are CPU minutes of this process (``time.process_time``) on ``threads`` torch
threads (1 for the shipped runs), so a run does the same work on a quiet machine as on a
busy shared one, where it takes longer in wall time. Unless ``epochs`` is set, the number
of epochs comes from a timing probe so the one-cycle schedule completes inside the budget.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from wavesmith.errors import AudioFileError, AudioValueError
from wavesmith.music.midi import Melody, transpose
from wavesmith.music.weights import DATA_DIR
from wavesmith.yamlconfig import read_config_yaml

__all__ = ["KINDS", "MusicTrainConfig", "MusicTrainResult", "build_config", "data_card",
           "describe", "epochs_for", "fit_config", "is_music_config", "load_chord_pairs",
           "load_melodies", "result_of", "safe_transpose", "save_run", "too_small",
           "train_music"]

DATA_NOTE = ("Nottingham Music Database, jukedeck cleaned MIDI (github:jukedeck/"
             "nottingham-dataset @0992bb6, GPL-3.0), full tunes; melody = top track, top line, "
             "16th-note grid")
SPLIT_NOTE = "by piece, sha1(file name): test < 0.1 <= valid < 0.2 <= train"
SHIP_DIR = DATA_DIR              # where --ship writes weights and cards
PROBE_STEPS = 6                  # timed training steps of the epoch probe (after 1 warm-up)
PROBE_MARGIN = 1.15              # the probe's epoch estimate leaves 15 % of the budget spare
SCHEDULES = ("onecycle", "cosine")

# Fields every kind takes; each kind adds its own (with its defaults) in _KIND_DEFAULTS.
_COMMON = ("kind", "name", "data", "seed", "threads", "limit", "cache_dir", "out_dir", "ship")
_FIT = {"minutes": 25.0, "epochs": None, "batch_size": 16, "lr": 2e-3, "weight_decay": 0.05,
        "schedule": "onecycle", "grad_clip_norm": 1.0, "patience": 4,
        "transpose_semitones": 3}
_KIND_DEFAULTS: dict[str, dict[str, Any]] = {
    "music_transformer": {
        **_FIT, "name": "transformer_nottingham", "out_dir": "runs/music/transformer",
        "model_config": {"block_size": 256, "n_layer": 4, "n_head": 4, "n_embd": 128,
                         "dropout": 0.1}},
    "music_vae": {
        **_FIT, "name": "vae_nottingham_2bar", "out_dir": "runs/music/vae", "minutes": 30.0,
        "batch_size": 64, "weight_decay": 0.01, "patience": 100,
        "model_config": {"dropout": 0.0}, "free_bits_nats": 32.0, "beta": 0.2,
        "anneal_fraction": 0.3},
    "music_vae16": {
        **_FIT, "name": "vae_nottingham_16bar", "out_dir": "runs/music/vae16",
        "batch_size": 32, "weight_decay": 0.01, "patience": 100, "model_config": {},
        "free_bits_nats": 128.0, "beta": 0.2, "anneal_fraction": 0.3, "hop_bars": 2,
        "init_from": None, "code_epochs": 0, "code_beta": 1.0, "end_to_end": True},
    "music_gan": {
        "name": "gan_nottingham", "out_dir": "runs/music/gan", "minutes": 12.0,
        "batch_size": 32, "lr": 1e-4, "lr_critic": 4e-4, "ema_decay": 0.999,
        "eval_every": 250, "model_config": {}},
    "music_harmony": {
        "name": "harmony_nottingham", "out_dir": "runs/music/harmony",
        "emission_weights": [0.05, 0.1, 0.2, 0.3, 0.5, 1.0], "backoff_ks": [5.0, 20.0, 80.0]},
}
KINDS = tuple(_KIND_DEFAULTS)


@dataclass(frozen=True)
class MusicTrainConfig:
    """Everything a music training run depends on; loadable from YAML (:meth:`from_yaml`).

    Build it with :meth:`from_yaml` or :meth:`from_dict`: they start from the ``kind``'s
    defaults (``_KIND_DEFAULTS``, the settings of the shipped run; the class defaults below
    are the transformer's) and accept only the fields that kind uses. Relative paths are
    relative to the working directory (the repository root for the shipped configs).
    """

    kind: str                                 # one of KINDS
    name: str = "transformer_nottingham"      # weights / card file name (no suffix)
    data: str = "../shared/data/music/midi/nottingham"   # folder of the *.mid tunes
    model_config: dict[str, Any] = field(default_factory=dict)   # the model's config fields
    minutes: float = 25.0                     # budget: CPU minutes of this process
    epochs: int | None = None                 # None: as many as fit the budget (probe)
    batch_size: int = 16
    lr: float = 2e-3                          # peak learning rate (GAN: the generator's)
    weight_decay: float = 0.05
    schedule: str = "onecycle"                # "onecycle" or "cosine"
    grad_clip_norm: float = 1.0
    patience: int = 4                         # epochs without a better val loss, then stop
    transpose_semitones: int = 3              # augmentation: random shift -n..+n semitones
    free_bits_nats: float = 32.0              # VAE: KL per segment not penalised (nats)
    beta: float = 0.2                         # VAE: final KL weight
    anneal_fraction: float = 0.3              # VAE: share of steps over which beta rises
    hop_bars: int = 2                         # VAE16: bars between training window starts
    init_from: str | None = None              # VAE16: 2-bar VAE weights to start from
    code_epochs: int = 0                      # VAE16: epochs fitting z to 2-bar codes first
    code_beta: float = 1.0                    # VAE16: final KL weight of that code stage
    end_to_end: bool = True                   # VAE16: then train on tokens (the budget left)
    lr_critic: float = 4e-4                   # GAN: critic's Adam learning rate
    ema_decay: float = 0.999                  # GAN: generator weight average (shipped)
    eval_every: int = 250                     # GAN: generator steps between validations
    emission_weights: tuple[float, ...] = ()  # harmony: grid tuned on the valid split
    backoff_ks: tuple[float, ...] = ()        # harmony: ditto
    seed: int = 0
    threads: int = 1                          # torch intra-op threads
    limit: int | None = None                  # pieces per split (smoke runs; never shipped)
    cache_dir: str | None = "runs/music"      # parsed-corpus cache; None: parse every run
    out_dir: str = "runs/music/transformer"
    ship: bool = False                        # also write weights + card to the package

    @classmethod
    def from_yaml(cls, path: str | os.PathLike[str], **overrides: Any) -> MusicTrainConfig:
        """Load a config from YAML; ``overrides`` (not None) replace fields by name."""
        values = _read_yaml(Path(path))
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls.from_dict(values, source=str(path))

    @classmethod
    def from_dict(cls, values: dict[str, Any], *, source: str = "config") -> MusicTrainConfig:
        """Build a config from plain values: the kind's defaults, then ``values``.

        Raises
        ------
        AudioValueError
            Unknown ``kind``, a field the kind does not take, or a value out of range.
        """
        kind = values.get("kind")
        if kind not in _KIND_DEFAULTS:
            raise AudioValueError(f"{source}: unknown kind {kind!r}; known: "
                                  f"{', '.join(KINDS)}")
        allowed = set(_COMMON) | set(_KIND_DEFAULTS[kind])
        names = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - names)
        if unknown:
            raise AudioValueError(f"{source}: unknown field(s) {', '.join(unknown)}; known "
                                  f"for {kind}: {', '.join(sorted(allowed))}")
        foreign = sorted(set(values) - allowed)
        if foreign:
            raise AudioValueError(f"{source}: field(s) {', '.join(foreign)} do not apply to "
                                  f"kind {kind}; its fields: {', '.join(sorted(allowed))}")
        merged = {**_KIND_DEFAULTS[kind], **values}
        cfg = cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in merged.items()})
        cfg._check(source)
        return cfg

    def _check(self, source: str) -> None:
        if self.schedule not in SCHEDULES:
            raise AudioValueError(f"{source}: schedule={self.schedule!r} must be "
                                  "'onecycle' or 'cosine'")
        if not (self.minutes > 0 and self.batch_size >= 1 and self.threads >= 1):
            raise AudioValueError(f"{source}: minutes must be > 0, batch_size and threads "
                                  ">= 1")
        if self.epochs is not None and self.epochs < 1:
            raise AudioValueError(f"{source}: epochs={self.epochs} must be >= 1 (or null: "
                                  "as many as fit the budget)")
        if self.limit is not None and self.limit < 1:
            raise AudioValueError(f"{source}: limit={self.limit} must be >= 1")
        if self.limit is not None and self.ship:
            raise AudioValueError(f"{source}: a run with limit={self.limit} is a smoke run "
                                  "and is not shipped; drop limit or ship")
        if self.kind == "music_vae16" and self.hop_bars < 1:
            raise AudioValueError(f"{source}: hop_bars={self.hop_bars} must be >= 1")
        if self.code_epochs < 0 or self.code_beta < 0:
            raise AudioValueError(f"{source}: code_epochs={self.code_epochs} and code_beta="
                                  f"{self.code_beta} must be >= 0")
        if self.kind == "music_vae16" and self.code_epochs and (
                self.init_from is None or self.model_config.get("encoder") != "segments"):
            raise AudioValueError(f"{source}: code_epochs needs init_from (the 2-bar VAE "
                                  "whose codes z learns) and model_config.encoder: segments")
        if self.kind == "music_vae16" and not (self.code_epochs or self.end_to_end):
            raise AudioValueError(f"{source}: end_to_end: false leaves nothing to train "
                                  "without code_epochs")
        if self.kind == "music_gan" and self.eval_every < 1:
            raise AudioValueError(f"{source}: eval_every={self.eval_every} must be >= 1")
        if self.kind == "music_harmony" and not (self.emission_weights and self.backoff_ks):
            raise AudioValueError(f"{source}: emission_weights and backoff_ks need at least "
                                  "one value each")


@dataclass
class MusicTrainResult:
    """What a run wrote and measured (``dataclasses.asdict`` makes it JSON)."""

    kind: str
    out_dir: str
    weights: str              # the .pt (networks) or .json table (harmony) in out_dir
    card: str                 # the JSON card beside it (harmony: the table itself)
    shipped: list[str]        # files written to the package (with ship)
    metrics: dict[str, Any]
    history: list[dict[str, Any]]
    train_cpu_seconds: float


def _read_yaml(path: Path) -> dict[str, Any]:
    return read_config_yaml(path)


def is_music_config(path: str | os.PathLike[str]) -> bool:
    """Whether the YAML file at ``path`` is a music config (it has a ``kind`` key).

    An unreadable or invalid file is not one; the digit trainer's loader then reports it.
    """
    try:
        return "kind" in _read_yaml(Path(path))
    except (AudioFileError, AudioValueError):
        return False


# -- data ---------------------------------------------------------------------------------------
def _cache_file(cfg: MusicTrainConfig, what: str) -> Path | None:
    """``<cache_dir>/<what>-<hash of the data folder>.pkl``, or None without a cache."""
    if cfg.cache_dir is None:
        return None
    tag = hashlib.sha1(str(Path(cfg.data).resolve()).encode()).hexdigest()[:10]
    return Path(cfg.cache_dir) / f"{what}-{tag}.pkl"


def load_melodies(cfg: MusicTrainConfig) -> dict[str, list[Melody]]:
    """The split melodies (``train``/``valid``/``test``), the first ``cfg.limit`` of each.

    With ``cache_dir`` the whole parsed corpus is cached there (parsing all 1021 tunes takes
    ~30 s); the cache is our own pickle, keyed by the data folder.
    """
    from wavesmith.music.dataset import load_split

    cache = _cache_file(cfg, "melodies")
    if cache is None:
        return load_split(cfg.data, limit=cfg.limit)
    if cache.is_file():
        data = pickle.loads(cache.read_bytes())
    else:
        data = load_split(cfg.data)
        cache.parent.mkdir(parents=True, exist_ok=True)
        cache.write_bytes(pickle.dumps(data))
    return {k: v[:cfg.limit] for k, v in data.items()}


def load_chord_pairs(cfg: MusicTrainConfig, *, log: Callable[[str], None] | None = None
                     ) -> dict[str, list[tuple[Melody, Any]]]:
    """``(melody, per-bar chord indices)`` per split from the accompaniment tracks (tunes
    without one are skipped), the first ``cfg.limit`` of each; cached like
    :func:`load_melodies`."""
    from wavesmith.music.dataset import nottingham_files
    from wavesmith.music.harmonize import chord_labels
    from wavesmith.music.midi import load_midi, melody_from_midi, split_pieces

    cache = _cache_file(cfg, "chords")
    if cache is not None and cache.is_file():
        return {k: v[:cfg.limit] for k, v in pickle.loads(cache.read_bytes()).items()}
    want = None if cache is not None else cfg.limit   # a cache holds the whole corpus
    data: dict[str, list[tuple[Melody, Any]]] = {}
    for split, paths in split_pieces(nottingham_files(cfg.data)).items():
        pairs = []
        for p in paths:
            if want is not None and len(pairs) >= want:
                break
            pm = load_midi(p)
            mel = melody_from_midi(pm, name=p.stem)
            try:
                pairs.append((mel, chord_labels(pm, mel, name=p.stem)))
            except AudioValueError:
                if log is not None:
                    log(f"skipped {p.name}: no accompaniment")
        data[split] = pairs
    if cache is not None:
        cache.parent.mkdir(parents=True, exist_ok=True)
        cache.write_bytes(pickle.dumps(data))
    return {k: v[:cfg.limit] for k, v in data.items()}


def safe_transpose(m: Melody, shift: int) -> Melody:
    """``m`` moved by ``shift`` semitones, or unchanged when that leaves MIDI 0..127."""
    try:
        return transpose(m, shift)
    except ValueError:
        return m


# -- training helpers ---------------------------------------------------------------------------
def epochs_for(budget_s: float, model: Any, loader: Any, loss: Any) -> tuple[int, float]:
    """``(epochs, s per step)``: epochs that fit ``budget_s`` of CPU time.

    From the mean CPU time of :data:`PROBE_STEPS` training steps of ``loss(model, batch)`` at
    learning rate 0 (one untimed warm-up step first). The weights do not change, but the
    random streams (dropout, shuffling, augmentation) advance; callers build fresh weights
    afterwards, and a run is reproducible because the probe is part of it.
    """
    import torch

    def probe(n: int) -> int:
        opt = torch.optim.AdamW(model.parameters(), lr=0.0)
        for _, batch in zip(range(n), loader, strict=False):
            value, _ = loss(model, batch)
            opt.zero_grad()
            value.backward()
            opt.step()
        return n

    probe(1)
    t0 = time.process_time()
    n = probe(PROBE_STEPS)
    step_s = (time.process_time() - t0) / n
    return max(1, int(budget_s / (step_s * len(loader) * PROBE_MARGIN))), step_s


def fit_config(cfg: MusicTrainConfig, model_config: dict[str, Any], epochs: int) -> Any:
    """The :class:`wavesmith.learn.trainer.TrainConfig` that ``fit`` runs for ``cfg``."""
    from wavesmith.learn.trainer import TrainConfig

    return TrainConfig(name=cfg.name, model=cfg.kind, model_config=model_config,
                       data=cfg.data, noise_dir=None, epochs=epochs,
                       batch_size=cfg.batch_size, lr=cfg.lr, weight_decay=cfg.weight_decay,
                       schedule=cfg.schedule, grad_clip_norm=cfg.grad_clip_norm,
                       patience=cfg.patience, seed=cfg.seed, threads=cfg.threads,
                       out_dir=cfg.out_dir)


def build_config(cls: type, values: dict[str, Any], source: str) -> Any:
    """``cls(**values)`` for a model config dataclass, with a one-line error on bad keys."""
    try:
        return cls(**values)
    except TypeError as exc:
        known = ", ".join(f.name for f in fields(cls))
        raise AudioValueError(f"{source}: model_config {values} does not fit {cls.__name__} "
                              f"(fields: {known})") from exc


def data_card(data: dict[str, list[Any]]) -> dict[str, Any]:
    """The card's data provenance for split melodies."""
    return {"description": DATA_NOTE, "split": SPLIT_NOTE,
            "pieces": {k: len(v) for k, v in data.items()}}


def save_run(cfg: MusicTrainConfig, model_name: str, model_config: dict[str, Any],
             state: dict[str, Any], card: dict[str, Any]) -> tuple[Path, list[str]]:
    """Write ``<out_dir>/<name>.pt`` + card (and, with ``ship``, the package copies).

    Returns the card path in ``out_dir`` and the shipped files.
    """
    import torch

    from wavesmith import __version__
    from wavesmith.music.weights import save_weights

    card["versions"] = {"wavesmith": __version__, "torch": str(torch.__version__)}
    out = Path(cfg.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    card_path = save_weights(out / f"{cfg.name}.pt", model_name, model_config, state, card)
    shipped = []
    if cfg.ship:
        shipped_card = save_weights(SHIP_DIR / f"{cfg.name}.pt", model_name, model_config,
                                    state, card)
        shipped = [str(shipped_card.with_suffix(".pt")), str(shipped_card)]
    return card_path, shipped


def result_of(cfg: MusicTrainConfig, card_path: Path, shipped: list[str],
              card: dict[str, Any], train_cpu_s: float) -> MusicTrainResult:
    """The run's :class:`MusicTrainResult` from what :func:`save_run` wrote."""
    return MusicTrainResult(kind=cfg.kind, out_dir=cfg.out_dir,
                            weights=str(card_path.with_suffix(".pt")), card=str(card_path),
                            shipped=shipped, metrics=card["metrics"],
                            history=card.get("history", []),
                            train_cpu_seconds=round(train_cpu_s, 1))


def too_small(cfg: MusicTrainConfig, what: str) -> AudioValueError:
    """The one-line error for a run whose (limited) data cannot train or evaluate."""
    return AudioValueError(f"{cfg.name}: too little data ({what}; limit={cfg.limit}); "
                           "raise limit or drop it")


def train_music(cfg: MusicTrainConfig, *, command: str | None = None,
                log: Callable[[str], None] | None = None) -> MusicTrainResult:
    """Train, evaluate and save the model ``cfg.kind`` on the Nottingham tunes.

    Parameters
    ----------
    cfg : MusicTrainConfig
        The run.
    command : str, optional
        The command line that started the run, recorded as the card's ``built_by``.
    log : callable, optional
        Called with one line per epoch (or per GAN validation) and a few notes.

    Raises
    ------
    AudioFileError
        Missing data.
    AudioValueError
        A model config that does not fit, or too few pieces for the evaluation.
    ModelError
        The validation loss was never finite.
    """
    import torch

    torch.set_num_threads(cfg.threads)
    say = log if log is not None else (lambda line: None)
    built_by = command or f"wavesmith train run (kind {cfg.kind})"
    if cfg.kind == "music_transformer":
        from wavesmith.music.train_melody import train_transformer
        return train_transformer(cfg, built_by=built_by, log=say)
    if cfg.kind == "music_vae":
        from wavesmith.music.train_melody import train_vae
        return train_vae(cfg, built_by=built_by, log=say)
    if cfg.kind == "music_vae16":
        from wavesmith.music.train_vae16 import train_vae16
        return train_vae16(cfg, built_by=built_by, log=say)
    if cfg.kind == "music_gan":
        from wavesmith.music.train_gan import train_gan
        return train_gan(cfg, built_by=built_by, log=say)
    from wavesmith.music.train_harmony import train_harmony
    return train_harmony(cfg, built_by=built_by, log=say)


def describe(cfg: MusicTrainConfig) -> dict[str, Any]:
    """The config as plain values (tuples as lists), for cards."""
    return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(cfg).items()}
