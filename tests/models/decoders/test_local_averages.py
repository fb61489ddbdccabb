import pytest
import torch

from visionllm.models.decoders.local_averages import local_avg_factors


def test_heads_use_local_averages_inside_the_block_only():
    from mmdet.models.dense_heads import dino_head, grounding_dino_head
    original, dino_original = grounding_dino_head.reduce_mean, dino_head.reduce_mean
    x = torch.tensor([3.0])
    with local_avg_factors():
        assert grounding_dino_head.reduce_mean(x) is x and dino_head.reduce_mean(x) is x
    assert grounding_dino_head.reduce_mean is original
    with pytest.raises(RuntimeError), local_avg_factors():
        raise RuntimeError('loss failed')
    assert grounding_dino_head.reduce_mean is original and dino_head.reduce_mean is dino_original
