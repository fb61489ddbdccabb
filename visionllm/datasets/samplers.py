"""Task-grouped batches: every optimizer step uses one decoder family, on every rank."""
from typing import Dict, Iterator, List, Optional

import numpy as np
from torch.utils.data import BatchSampler, Sampler

from visionllm.registry import DATA_SAMPLERS
from visionllm.structures.tasks import dataset_tasks, task_families


def sample_task(dataset, idx: int) -> str:
    """The task of sample ``idx`` without running the pipeline (MixtureDataset / ConcatDataset aware)."""
    if hasattr(dataset, 'source'):  # MixtureDataset
        return sample_task(dataset.datasets[dataset.source[idx]], int(dataset.index[idx]))
    if hasattr(dataset, 'cumulative_sizes'):  # mmengine ConcatDataset
        k = int(np.searchsorted(dataset.cumulative_sizes, idx, side='right'))
        return sample_task(dataset.datasets[k], idx - (dataset.cumulative_sizes[k - 1] if k else 0))
    if hasattr(dataset, 'get_data_info'):
        info = dataset.get_data_info(idx)
        if info.get('task'):
            return info['task']
    if getattr(dataset, 'task', None):
        return dataset.task
    meta_task = (getattr(dataset, 'metainfo', None) or {}).get('task')
    if meta_task:  # a dataset type of another task prompted for this one: metainfo=dict(task=...) in its config
        return meta_task
    return dataset_tasks().get(type(dataset).__name__, 'chat')


@DATA_SAMPLERS.register_module()
class TaskGroupedBatchSampler(BatchSampler):
    """Batches whose samples all belong to one decoder family (text tasks form the ``text`` family).

    The family of step k is drawn from ``family_weights`` (default: proportional to the families'
    shares in the dataset) with a generator seeded by ``seed`` only, so all ranks of a distributed run
    draw the same sequence and every step updates the same decoder everywhere; each rank fills its batch
    from its own share of the sampler's indices. Use it with an infinite sampler (iteration-based
    training): at the end of a finite epoch the leftovers of each rank differ.

    Args:
        sampler: the index sampler (mmengine's DefaultSampler / InfiniteSampler, rank-sharded).
        families: task -> family overrides (default: the registered tasks' families, ``TASKS``).
    """

    def __init__(self, sampler: Sampler, batch_size: int, drop_last: bool = False,
                 families: Optional[Dict[str, str]] = None, family_weights: Optional[Dict[str, float]] = None,
                 seed: int = 0):
        super().__init__(sampler, batch_size, drop_last)
        self.families = dict(task_families(), **(families or {}))
        self.family_weights, self.seed = family_weights, seed
        self._epoch = 0

    def _family(self, idx: int) -> str:
        return self.families.get(sample_task(self.sampler.dataset, idx), 'text')

    def _weights(self):
        """(families, probabilities) from the whole dataset (the same on every rank), computed once."""
        if not hasattr(self, '_fam_weights'):
            if self.family_weights:
                order = sorted(self.family_weights)
                w = np.array([self.family_weights[f] for f in order], np.float64)
            else:
                counts: Dict[str, int] = {}
                for i in range(len(self.sampler.dataset)):
                    f = self._family(i)
                    counts[f] = counts.get(f, 0) + 1
                order = sorted(counts)
                w = np.array([counts[f] for f in order], np.float64)
            self._fam_weights = (order, w / w.sum())
        return self._fam_weights

    def __iter__(self) -> Iterator[List[int]]:
        rng = np.random.default_rng([self.seed, self._epoch])
        self._epoch += 1
        order, weights = self._weights()
        buckets: Dict[str, List[int]] = {f: [] for f in order}
        want = order[rng.choice(len(order), p=weights)]
        for idx in self.sampler:
            fam = self._family(idx)
            buckets.setdefault(fam, []).append(idx)
            while len(buckets.get(want, [])) >= self.batch_size:
                yield buckets[want][:self.batch_size]
                buckets[want] = buckets[want][self.batch_size:]
                want = order[rng.choice(len(order), p=weights)]
        if not self.drop_last:
            for fam in sorted(buckets):
                b = buckets[fam]
                for i in range(0, len(b), self.batch_size):
                    yield b[i:i + self.batch_size]

    def __len__(self) -> int:
        n = len(self.sampler)
        return n // self.batch_size if self.drop_last else (n + self.batch_size - 1) // self.batch_size
