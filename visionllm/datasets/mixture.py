"""Multi-source mixtures with per-source sampling weights."""
from typing import List, Optional, Sequence, Union

import numpy as np
from mmengine.dataset import BaseDataset

from visionllm.registry import DATASETS
from visionllm.utils.errors import ConfigError


@DATASETS.register_module()
class MixtureDataset:
    """Draw samples from several datasets with given weights (with replacement, deterministic by seed).

    Index ``i`` of the mixture maps to a fixed (source, sample) pair drawn once at construction, so a
    sampler's shuffling and resuming work as for any dataset. Sources keep their own metainfo; the
    mixture's ``metainfo`` lists the sources' tasks only (metrics read classes from their own files).

    Args:
        datasets: dataset configs (or built datasets).
        weights: relative sampling weight per source (default: proportional to size).
        length: number of draws (default: the total size of the sources).
        seed: seed of the draw.
    """

    def __init__(self, datasets: Sequence[Union[dict, BaseDataset]], weights: Optional[Sequence[float]] = None,
                 length: Optional[int] = None, seed: int = 0):
        self.datasets: List = [DATASETS.build(d) if isinstance(d, dict) else d for d in datasets]
        sizes = np.array([len(d) for d in self.datasets], dtype=np.float64)
        if (sizes == 0).any():
            raise ConfigError(f'MixtureDataset: source(s) {np.nonzero(sizes == 0)[0].tolist()} are empty')
        w = np.asarray(weights if weights is not None else sizes, dtype=np.float64)
        if len(w) != len(self.datasets) or (w < 0).any() or w.sum() <= 0:
            raise ConfigError(f'MixtureDataset: weights {list(w)} must be {len(self.datasets)} non-negative numbers')
        self.weights = w / w.sum()
        n = int(length or sizes.sum())
        rng = np.random.default_rng(seed)
        self.source = rng.choice(len(self.datasets), size=n, p=self.weights)
        self.index = (rng.random(n) * sizes[self.source]).astype(np.int64)
        self.metainfo = dict(sources=[type(d).__name__ for d in self.datasets])

    def __len__(self) -> int:
        return len(self.source)

    def __getitem__(self, idx: int):
        return self.datasets[self.source[idx]][int(self.index[idx])]

    def full_init(self) -> None:
        for d in self.datasets:
            if hasattr(d, 'full_init'):
                d.full_init()
