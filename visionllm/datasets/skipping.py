"""Skip-and-count handling of bad samples during training: one policy for map-style and streamed data."""
from typing import Any, Callable, Dict, List, Optional

from mmengine.dataset import pseudo_collate

from visionllm.registry import FUNCTIONS
from visionllm.utils.errors import BadSampleError


class SkipBadSamplesMixin:
    """``__getitem__`` that turns a :class:`BadSampleError` into a skip marker in training.

    mmengine's ``BaseDataset`` silently re-draws another index when a pipeline returns None; here a
    bad sample becomes ``{'skipped': {'index', 'reason'}}`` which :func:`visionllm_collate` drops from
    the batch and :class:`BadSampleHook` counts and logs. In test mode the error propagates.
    """

    def __getitem__(self, idx: int) -> Dict[str, Any]:
        if not self._fully_initialized:
            self.full_init()
        return prepare_or_skip(lambda: self.prepare_data(idx), idx, self.test_mode)


def prepare_or_skip(prepare: Callable[[], Optional[dict]], index, test_mode: bool) -> Dict[str, Any]:
    """The one policy for bad samples, map-style and streamed alike: ``prepare()``'s packed sample. A
    :class:`BadSampleError` (unreadable image, malformed annotation or shard member) or a transform that
    drops the sample (None) becomes, in training, ``{'skipped': {'index', 'reason'}}`` (dropped from the batch
    by :func:`visionllm_collate`, counted and logged by ``BadSampleHook``); in test mode it is raised. Any
    other error is a bug and propagates."""
    try:
        data = prepare()
    except BadSampleError as e:
        if test_mode:
            raise
        return dict(skipped=dict(index=index, reason=str(e)))
    if data is None:
        if test_mode:
            raise BadSampleError(f'sample {index}', 'pipeline', 'a transform dropped the sample')
        return dict(skipped=dict(index=index, reason='a transform dropped the sample'))
    return data


@FUNCTIONS.register_module()
def visionllm_collate(batch: List[dict]) -> dict:
    """pseudo_collate of the good samples, plus ``skipped``: the markers of the bad ones, and ``stream_pos``:
    the stream positions the samples of a streaming dataset carry (read by ``StreamStateHook``)."""
    positions = [b.pop('stream_pos') for b in batch if 'stream_pos' in b]
    good = [b for b in batch if 'skipped' not in b]
    skipped = [b['skipped'] for b in batch if 'skipped' in b]
    out = pseudo_collate(good) if good else dict(inputs={}, data_samples=[])
    out['skipped'] = skipped
    if positions:
        out['stream_pos'] = positions
    return out
