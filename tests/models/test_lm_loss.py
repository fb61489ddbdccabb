"""The LM loss reduced per token or per sample."""
import torch
import torch.nn.functional as F

from visionllm.models.lm_loss import lm_loss


def test_sample_mean_weighs_each_answer_once():
    torch.manual_seed(0)
    target = torch.tensor([[1, 2, 3, 4, -100], [5, -100, -100, -100, -100], [-100] * 5])
    learn = target != -100
    logits = torch.randn(int(learn.sum()), 8)
    ce = F.cross_entropy(logits, target[learn], reduction='none')
    assert torch.allclose(lm_loss(logits, target, learn, 'token'), ce.mean())
    # a 4-token answer and a 1-token answer count equally; the sample without tokens not at all
    assert torch.allclose(lm_loss(logits, target, learn, 'sample'), (ce[:4].mean() + ce[4]) / 2)
