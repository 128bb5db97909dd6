"""Training pipeline: manifests and features, augmentation, trainer, evaluation, export.

>>> from wavesmith.learn import TrainConfig, train      # doctest: +SKIP
>>> result = train(TrainConfig.from_yaml("configs/digits_cnn.yaml"))   # doctest: +SKIP
"""

from wavesmith.learn.augment import (
    AugmentConfig,
    NoiseBank,
    apply_gain,
    measure_snr_db,
    mix_at_snr,
    pitch_shift,
    reverberate,
    spec_augment,
    speed_perturb,
    synthetic_rir,
    time_shift,
)
from wavesmith.learn.data import (
    FeatureCache,
    FeatureDataset,
    FeatureParams,
    Manifest,
    features_from_audio,
    log_mel_features,
    loso_folds,
    prepare_manifest,
    read_manifest,
)
from wavesmith.learn.strings import DigitString, StringComposer, StringConfig, StringDataset
from wavesmith.learn.trainer import TrainConfig, TrainResult, train

__all__ = [
    "AugmentConfig",
    "DigitString",
    "FeatureCache",
    "FeatureDataset",
    "FeatureParams",
    "Manifest",
    "NoiseBank",
    "StringComposer",
    "StringConfig",
    "StringDataset",
    "TrainConfig",
    "TrainResult",
    "apply_gain",
    "features_from_audio",
    "log_mel_features",
    "loso_folds",
    "measure_snr_db",
    "mix_at_snr",
    "pitch_shift",
    "prepare_manifest",
    "read_manifest",
    "reverberate",
    "spec_augment",
    "speed_perturb",
    "synthetic_rir",
    "time_shift",
    "train",
]
