"""Exact resume of streaming training data: the stream position goes into the checkpoint."""
from collections import deque
from typing import Deque, Dict, List, Optional

from mmengine.dist import all_gather_object, get_rank, get_world_size
from mmengine.hooks import Hook
from mmengine.runner.loops import _InfiniteDataloaderIterator

from visionllm.registry import HOOKS


def _positions(batch) -> List[dict]:
    """The ``stream_pos`` of a batch's samples (also when a collate merged them into one dict of lists)."""
    positions = (batch.get('stream_pos') if isinstance(batch, dict) else None) or []
    if isinstance(positions, dict):  # mmengine's pseudo_collate
        positions = [dict(zip(positions, values)) for values in zip(*positions.values())]
    return positions


def _batch_worker(batch) -> Optional[int]:
    """The dataloader worker a batch came from, None if it does not say."""
    positions = _positions(batch)
    return int(positions[0]['worker']) if positions else None


class _ContinuingStream(_InfiniteDataloaderIterator):
    """The train loop's iterator after a stream resumed from its saved position: nothing to skip, and the
    batches come in the order the interrupted run would have taken them.

    A DataLoader takes its workers' batches in turn from worker 0; the interrupted run's next batch was due
    from worker ``next_worker`` (it had stopped mid-round). Batches of the other workers are held until it is
    their turn, so iteration ``i`` trains on the batch it would have trained on without the interruption."""

    def __init__(self, dataloader, next_worker: Optional[int] = None, num_workers: int = 1):
        super().__init__(dataloader)
        self._expect, self._workers = next_worker, num_workers
        self._held: Dict[int, Deque] = {}

    def skip_iter(self, num_iters: int) -> None:
        pass

    def __next__(self):
        if self._expect is None or self._workers <= 1:
            return super().__next__()
        while True:
            held = self._held.get(self._expect)
            if held:
                batch, worker = held.popleft(), self._expect
                break
            batch = super().__next__()
            worker = _batch_worker(batch)
            if worker is None or worker == self._expect or sum(map(len, self._held.values())) > 4 * self._workers:
                break  # (a batch that does not say, or a worker that stopped: taken as it comes)
            self._held.setdefault(worker, deque()).append(batch)
        self._expect = None if worker is None else (worker + 1) % self._workers
        return batch


def _later(a: dict, b: dict) -> bool:
    return (a.get('epoch', 0), a['items']) > (b.get('epoch', 0), b['items'])


@HOOKS.register_module()
class StreamStateHook(Hook):
    """Saves where each reader (rank x dataloader worker) of a streaming training dataset
    (``StreamingDataset`` / ``StreamingMixture``) stands, and resumes there.

    The samples carry ``stream_pos`` (``{'worker', 'epoch', 'items'}``: the reader's items so far); after each
    iteration the hook keeps each reader's latest consumed position (gathered over ranks), and checkpoints
    store them as ``meta.stream_state = {'world_size', 'num_workers', 'ranks': [{worker: position}]}``. On
    ``--resume`` each rank's dataset continues after its readers' positions, so no sample is repeated or
    skipped and nothing before the position is decoded again; mmengine's advance-by-iterations is then not
    needed. A checkpoint without a stream state falls back to mmengine's advance (exact too, but the skipped
    samples are prepared again); one saved with another number of ranks or workers restarts the stream and
    advances it, and as the shards are then dealt differently, samples can repeat or be missed.
    Under several processes the positions are gathered on the iterations where ``CheckpointHook`` saves.
    """
    priority = 'NORMAL'

    def __init__(self):
        self.positions: Dict[int, dict] = {}  # this rank's readers
        self.ranks: Optional[List[Dict[int, dict]]] = None  # every rank's, after the last iteration
        self.next_worker: Optional[int] = None  # the worker whose batch this rank takes next
        self.next_workers: Optional[List[Optional[int]]] = None  # every rank's
        self.resumed = False

    @staticmethod
    def _workers(runner) -> int:
        return max(1, int(getattr(runner.train_dataloader, 'num_workers', 0) or 0))

    def after_train_iter(self, runner, batch_idx: int, data_batch=None, outputs=None) -> None:
        positions = _positions(data_batch)
        for pos in positions:
            worker = int(pos['worker'])
            if worker not in self.positions or _later(pos, self.positions[worker]):
                self.positions[worker] = dict(pos)
        if positions:
            self.next_worker = (int(positions[0]['worker']) + 1) % self._workers(runner)
        if get_world_size() == 1:
            self.ranks, self.next_workers = [self.positions], [self.next_worker]
        elif self._checkpoint_due(runner):  # the collective only where a checkpoint will store the result
            gathered = all_gather_object((self.positions, self.next_worker))
            self.ranks, self.next_workers = [g[0] for g in gathered], [g[1] for g in gathered]

    def _checkpoint_due(self, runner) -> bool:
        """Whether the CheckpointHook saves after this iteration (True when it cannot be told)."""
        from mmengine.hooks import CheckpointHook
        hook = next((h for h in runner.hooks if isinstance(h, CheckpointHook)), None)
        if hook is None or hook.by_epoch or not isinstance(hook.interval, int) or hook.interval <= 0:
            return True
        return self.every_n_train_iters(runner, hook.interval) or (hook.save_last and self.is_last_train_iter(runner))

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        if self.ranks and any(self.ranks):
            checkpoint.setdefault('meta', {})['stream_state'] = dict(
                world_size=get_world_size(), num_workers=self._workers(runner), ranks=self.ranks,
                next_workers=self.next_workers)

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        if not getattr(runner, '_resume', False):  # load_from (fine-tuning) starts the stream afresh
            return
        state = checkpoint.get('meta', {}).get('stream_state')
        dataset = runner.train_dataloader.dataset
        if state is None or not hasattr(dataset, 'load_stream_state'):
            return
        here = dict(world_size=get_world_size(), num_workers=self._workers(runner))
        saved = {k: state.get(k) for k in here}
        if saved != here:
            runner.logger.warning(f'the checkpoint\'s stream position was saved with {saved}, this run has {here}: '
                                  'the stream restarts and mmengine advances it by the trained iterations; the '
                                  'shards are dealt differently, so samples can repeat or be missed')
            return
        self.positions = {int(w): p for w, p in state['ranks'][get_rank()].items()}
        self.ranks = state['ranks']
        self.next_workers = state.get('next_workers')  # absent in older checkpoints: batches as they come
        self.next_worker = self.next_workers[get_rank()] if self.next_workers else None
        dataset.load_stream_state(self.positions, here['num_workers'])
        self.resumed = True
        runner.logger.info(f'stream resumes after its saved position: {self.positions} (rank {get_rank()})')

    def before_train(self, runner) -> None:
        loop = runner.train_loop
        if self.resumed and hasattr(loop, 'dataloader_iterator'):
            loop.dataloader_iterator = _ContinuingStream(loop.dataloader, self.next_worker, self._workers(runner))
