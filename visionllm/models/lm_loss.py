"""The language-model loss of a batch, reduced per token or per sample."""
import torch.nn.functional as F
from torch import Tensor


def lm_loss(logits: Tensor, target: Tensor, learn: Tensor, mean: str = 'token') -> Tensor:
    """Cross-entropy of logits [N, V] (one row per True of ``learn`` [B, L]) against ``target`` [B, L].

    ``mean='token'``: the mean over the N tokens; ``'sample'``: the mean over samples with a token of each
    sample's token mean, so that a one-word answer weighs as much as a long one.
    """
    if mean == 'token':
        return F.cross_entropy(logits.float(), target[learn])
    ce = F.cross_entropy(logits.float(), target[learn], reduction='none')
    sums = ce.new_zeros(learn.shape[0]).index_add_(0, learn.nonzero()[:, 0], ce)
    counts = learn.sum(1)
    has = counts > 0
    return (sums[has] / counts[has]).mean()
