"""Streaming datasets (``torch.utils.data.IterableDataset``) over webdataset shards, for mmengine's Runner
with ``IterBasedTrainLoop`` (config: ``sampler=None``)."""
import multiprocessing as mp
import random
from typing import Dict, Iterator, List, Optional, Sequence, Union

import numpy as np
from mmengine.logging import print_log
from torch.utils.data import IterableDataset, get_worker_info

from visionllm.registry import DATASETS
from visionllm.utils.errors import ConfigError

from .shards import decode_sample, iter_shards, release, shard_counts, shard_list
from .skipping import prepare_or_skip


def _rank_world():
    from mmengine.dist import get_dist_info
    return get_dist_info()


@DATASETS.register_module()
class StreamingDataset(IterableDataset):
    """Samples of tar shards, prepared by the pipeline of the map-style dataset they were written from.

    Sharding: the shard list (shuffled per epoch with ``seed + epoch`` when ``shuffle``) is dealt round-robin
    to the ``world_size x num_workers`` readers, so every sample is read exactly once per pass; readers with
    one shard fewer (uneven counts) simply finish earlier. The dealing takes the rank and worker as
    arguments (``readers``) rather than through webdataset's ``split_by_node`` / ``split_by_worker``, which
    read them from the environment: a reader left without a shard is named in a ``ConfigError``, and a
    resumed reader is found by its worker id. Within a reader webdataset's ``shuffle`` buffer mixes samples
    (seeded by seed, epoch and reader, so a resumed pass repeats the order). A pass is an epoch; passes are
    counted across the dataloader's workers, so each new pass reshuffles.

    Bad data never ends the run: an unreadable shard or tar member is skipped with one logged line, and an
    undecodable sample becomes a skip marker that ``visionllm_collate`` drops and ``BadSampleHook`` counts.

    Args:
        shards: a directory of ``*.tar``, a brace pattern or a list of those (see ``shard_list``).
        dataset: config of the map-style dataset the shards were written from (built with
            ``lazy_init=True``: its annotations are not read; its pipeline and metainfo are used).
        shuffle: shuffle shard order and samples (training); False reads shards and samples in order.
        shuffle_buffer: samples held for shuffling within a reader.
        seed: base seed of all shuffling.
    """

    def __init__(self, shards: Union[str, Sequence[str]], dataset: dict, shuffle: bool = True,
                 shuffle_buffer: int = 256, seed: int = 0, test_mode: bool = False):
        self.urls = shard_list(shards)
        if not self.urls:
            raise ConfigError(f'StreamingDataset: no shards found in {shards!r}')
        self.source = DATASETS.build(dict(dataset, lazy_init=True))
        self.metainfo = getattr(self.source, 'metainfo', {})
        self.shuffle, self.shuffle_buffer, self.seed = shuffle, shuffle_buffer, seed
        self.test_mode = test_mode
        self._passes = mp.Value('q', 0)  # readers started, over all passes and workers (shared with workers)
        self._resume: Dict[int, dict] = {}  # worker -> saved position (load_stream_state)

    def __len__(self) -> int:
        """Samples per pass over all ranks (from the shard folders' index files; mmengine reads it to size
        epochs for schedulers)."""
        n = shard_counts(self.urls)
        if n is None:
            raise TypeError('StreamingDataset: the shard folders have no index.json (written by write_shards)')
        return n

    def __getstate__(self):
        # sent to spawned dataloader workers, which have no process group: they read the rank from here
        state = dict(self.__dict__)
        state['_dist'] = _rank_world()
        return state

    def _rank_world(self):
        return self.__dict__.get('_dist') or _rank_world()

    def _epoch(self, num_workers: int) -> int:
        with self._passes.get_lock():
            n = self._passes.value
            self._passes.value += 1
        return n // num_workers

    def readers(self, rank: int, world_size: int, worker: int, num_workers: int, epoch: int) -> List[str]:
        """The shards of one reader (``rank``, ``worker``) in one epoch."""
        urls = list(self.urls)
        if self.shuffle:
            random.Random(self.seed + epoch).shuffle(urls)
        return urls[rank * num_workers + worker::world_size * num_workers]

    def __iter__(self) -> Iterator[dict]:
        return self.iterate()

    def load_stream_state(self, positions: Dict[int, dict], num_workers: int) -> None:
        """Resume: ``positions`` = ``{worker: {'epoch', 'items'}}`` of this rank's readers (saved by
        ``StreamStateHook``); the next pass is that epoch and each reader continues after its ``items``."""
        self._resume = {int(w): dict(p) for w, p in positions.items()}
        if self._resume:
            with self._passes.get_lock():
                self._passes.value = min(p.get('epoch', 0) for p in self._resume.values()) * max(1, num_workers)

    def raw(self, epoch: int) -> Iterator[dict]:
        """One pass of this reader's items before preparation: shard samples (webdataset dicts) and
        ``{'error': reason}`` for unreadable shards / members, in a fixed order for a given epoch."""
        rank, world = self._rank_world()
        info = get_worker_info()
        worker, workers = (info.id, info.num_workers) if info is not None else (0, 1)
        mine = self.readers(rank, world, worker, workers, epoch)
        if not mine:  # it would end at once, every pass: a bare StopIteration in the training loop
            raise ConfigError(f'StreamingDataset: {len(self.urls)} shard(s) for {world} rank(s) x {workers} '
                              f'dataloader worker(s): reader (rank {rank}, worker {worker}) gets none; write at '
                              'least one shard per reader (tools/convert_to_shards.py --shard-size) or use fewer '
                              'workers')
        errors: List[str] = []
        samples = iter_shards(mine, errors.append)
        if self.shuffle and self.shuffle_buffer > 1:  # webdataset's buffer, seeded: the same order on a resume
            import webdataset as wds
            samples = wds.shuffle(self.shuffle_buffer, self.shuffle_buffer,
                                  rng=random.Random(f'{self.seed}-{epoch}-{rank}-{worker}'))(samples)
        for sample in samples:
            while errors:
                yield dict(error=errors.pop(0))
            yield sample
        while errors:
            yield dict(error=errors.pop(0))

    def prepare(self, item: dict) -> dict:
        """A raw item -> the packed sample, or a skip marker (logged) for an error or a bad sample."""
        if '__key__' not in item:
            print_log(f'skipped shard data: {item["error"]}', logger='current', level=30)
            return dict(skipped=dict(index=-1, reason=item['error']))
        return self._prepare(item)

    def iterate(self, epoch: Optional[int] = None) -> Iterator[dict]:
        """One pass of this reader (rank, dataloader worker); ``epoch`` None: the next pass (after a resume,
        the saved pass, continued after the reader's saved position: the items before it are read from the
        shards but not decoded or prepared). Each sample carries ``stream_pos`` (worker, epoch, items)."""
        info = get_worker_info()
        worker, workers = (info.id, info.num_workers) if info is not None else (0, 1)
        skip = 0
        if epoch is None:
            epoch = self._epoch(workers)
            saved = self._resume.get(worker)
            if saved is not None and saved.get('epoch', 0) > epoch:
                return  # this reader had finished this pass (the others had not when the position was saved)
            if saved is not None and saved.get('epoch', 0) == epoch:
                skip = int(saved['items'])
        for n, item in enumerate(self.raw(epoch), 1):
            if n > skip:
                yield dict(self.prepare(item), stream_pos=dict(worker=worker, epoch=epoch, items=n))

    def _prepare(self, sample: dict) -> dict:
        key = f'{sample.get("__url__", "?")}:{sample["__key__"]}'

        def prepare():
            info = decode_sample(sample)
            try:
                return self.source.pipeline(info)
            finally:
                release(info)
        data = prepare_or_skip(prepare, key, self.test_mode)  # the policy of map-style datasets
        if 'data_samples' in data:
            data['data_samples'].set_metainfo(dict(shard_key=key))
        return data


@DATASETS.register_module()
class HFStreamingDataset(StreamingDataset):
    """As :class:`StreamingDataset`, over Parquet shards (``tools/convert_to_shards.py --format parquet``)
    read by Hugging Face ``datasets`` in streaming mode (local files only, nothing downloaded): ranks get
    their part from ``split_dataset_by_node``, dataloader workers from ``datasets`` itself; the shard order
    and a sample buffer are reshuffled each pass (``shuffle(seed, buffer_size)`` + ``set_epoch``).

    Resume re-reads the pass and skips the items already taken (as :class:`StreamingDataset` does), not
    ``datasets``' ``IterableDataset.state_dict()``: that state does not hold the shuffle buffer's content,
    which is refilled on loading, so the samples in the buffer at the save would be lost for the pass."""

    def raw(self, epoch: int) -> Iterator[dict]:
        from datasets import load_dataset
        from datasets.distributed import split_dataset_by_node

        from .shards import parquet_row_to_sample
        rank, world = self._rank_world()
        ds = load_dataset('parquet', data_files=list(self.urls), split='train', streaming=True)
        if self.shuffle:
            ds = ds.shuffle(seed=self.seed, buffer_size=max(1, self.shuffle_buffer))
            ds.set_epoch(epoch)
        if world > 1:
            ds = split_dataset_by_node(ds, rank=rank, world_size=world)
        for row in ds:
            yield dict(parquet_row_to_sample(row), __url__=row.get('__url__', 'parquet'))


@DATASETS.register_module()
class StreamingMixture(IterableDataset):
    """Weighted mixture of streams (the same keys as ``MixtureDataset``), endless: a source that ends
    starts its next pass. With ``group_size`` (= the batch size) each run of ``group_size`` consecutive
    samples comes from one source, so every batch holds one task family (the decoders' grouping, as
    ``TaskGroupedBatchSampler`` gives map-style data).

    Args:
        datasets: ``StreamingDataset`` configs (or built ones).
        weights: relative sampling weight per source (default: equal).
        group_size: samples drawn from a source in a row (1: per sample).
        seed: seed of the source draws (differs per rank and worker).
    """

    def __init__(self, datasets: Sequence[Union[dict, StreamingDataset]], weights: Optional[Sequence[float]] = None,
                 group_size: int = 1, seed: int = 0):
        self.datasets = [DATASETS.build(d) if isinstance(d, dict) else d for d in datasets]
        w = np.asarray(weights if weights is not None else [1.0] * len(self.datasets), dtype=np.float64)
        if len(w) != len(self.datasets) or (w < 0).any() or w.sum() <= 0:
            raise ConfigError(f'StreamingMixture: weights {list(w)} must be {len(self.datasets)} non-negative numbers')
        self.weights = w / w.sum()
        self.group_size, self.seed = max(1, int(group_size)), seed
        self.metainfo = dict(sources=[type(d.source).__name__ for d in self.datasets])
        self._resume: Dict[int, dict] = {}  # worker -> saved position (load_stream_state)

    def __len__(self) -> int:
        """The sources' samples per pass, summed (a nominal epoch: the mixture itself is endless)."""
        return sum(len(d) for d in self.datasets)

    def __getstate__(self):
        state = dict(self.__dict__)
        state['_dist'] = _rank_world()
        return state

    def load_stream_state(self, positions: Dict[int, dict], num_workers: int) -> None:
        """Resume: ``positions`` = ``{worker: {'items'}}`` of this rank's readers (saved by
        ``StreamStateHook``); each reader replays its source draws and continues after ``items``."""
        self._resume = {int(w): dict(p) for w, p in positions.items()}

    def __iter__(self) -> Iterator[dict]:
        """Endless; the items before a resumed reader's saved position are drawn and read from the shards
        but not decoded or prepared. Each sample carries ``stream_pos`` (worker, items)."""
        rank, _ = self.__dict__.get('_dist') or _rank_world()
        info = get_worker_info()
        worker = info.id if info is not None else 0
        skip = int(self._resume.get(worker, {}).get('items', 0))
        rng = np.random.default_rng([self.seed, rank, worker])
        passes = [0] * len(self.datasets)  # this reader's passes per source: the same order after a restart
        streams = [d.raw(0) for d in self.datasets]
        n = 0
        while True:
            k = int(rng.choice(len(streams), p=self.weights))
            for _ in range(self.group_size):
                try:
                    item = next(streams[k])
                except StopIteration:  # this source's pass is over: its next pass (reshuffled)
                    passes[k] += 1
                    streams[k] = self.datasets[k].raw(passes[k])
                    try:
                        item = next(streams[k])
                    except StopIteration:
                        raise ConfigError(f'StreamingMixture: source {k} gives this reader (rank {rank}, worker '
                                          f'{worker}) no samples; it needs at least as many shards as ranks x '
                                          'dataloader workers') from None
                n += 1
                if n > skip:
                    yield dict(self.datasets[k].prepare(item), stream_pos=dict(worker=worker, items=n))
