"""Per-process loss normalisers for mmdet's DETR-family heads under data parallelism.

mmdet's DETR / DINO / Grounding-DINO heads all-reduce the number of positives inside ``loss_by_feat``
(``reduce_mean``). In a multitask batch a rank whose samples route no query to the detection decoder
never calls that head, so the other ranks' all-reduce has no partner (a gloo size mismatch or a hang).
Inside :func:`local_avg_factors` the heads normalise by their own process's positives instead; DDP
still averages the gradients over the ranks.
"""
import contextlib
from typing import Iterator

from mmdet.models.dense_heads import deformable_detr_head, detr_head, dino_head, grounding_dino_head

_HEAD_MODULES = (detr_head, deformable_detr_head, dino_head, grounding_dino_head)


def _identity(tensor):
    return tensor


@contextlib.contextmanager
def local_avg_factors() -> Iterator[None]:
    """Within the block, mmdet's DETR-family heads do not all-reduce their average factors."""
    saved = [(m, m.reduce_mean) for m in _HEAD_MODULES if hasattr(m, 'reduce_mean')]
    try:
        for m, _ in saved:
            m.reduce_mean = _identity
        yield
    finally:
        for m, fn in saved:
            m.reduce_mean = fn
