"""Skip-and-count handling of bad samples during training."""
from typing import Any, Dict, List

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
        try:
            data = self.prepare_data(idx)
        except BadSampleError as e:
            if self.test_mode:
                raise
            return dict(skipped=dict(index=idx, reason=str(e)))
        if data is None:
            if self.test_mode:
                raise BadSampleError(f'sample {idx}', 'pipeline', 'a transform dropped the sample')
            return dict(skipped=dict(index=idx, reason='a transform dropped the sample'))
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
