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
    spec_augment,
    speed_perturb,
    time_shift,
)
from wavesmith.learn.data import (
    FeatureCache,
    FeatureDataset,
    FeatureParams,
    Manifest,
    features_from_audio,
    loso_folds,
    prepare_manifest,
    read_manifest,
)
from wavesmith.learn.trainer import TrainConfig, TrainResult, train

__all__ = [
    "AugmentConfig",
    "FeatureCache",
    "FeatureDataset",
    "FeatureParams",
    "Manifest",
    "NoiseBank",
    "TrainConfig",
    "TrainResult",
    "apply_gain",
    "features_from_audio",
    "loso_folds",
    "measure_snr_db",
    "mix_at_snr",
    "prepare_manifest",
    "read_manifest",
    "spec_augment",
    "speed_perturb",
    "time_shift",
    "train",
]
