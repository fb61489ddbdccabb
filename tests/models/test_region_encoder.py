"""Visual prompts in the model: the region encoder, `<region>` tokens and their path to the decoders."""
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from mmengine.registry import DefaultScope

from tests.conftest import REPO, tiny_model_cfg
from visionllm.datasets import prompts
from visionllm.models.region_encoder import RegionEncoder
from visionllm.registry import DATASETS, MODELS
from visionllm.structures import VisionLLMDataSample
from visionllm.utils.errors import PromptError


def test_region_encoder_pools_each_region():
    torch.manual_seed(0)
    enc = RegionEncoder(out_dims=32, channels=8)
    images = torch.randn(2, 3, 64, 64)
    box = torch.zeros(2, 40, 48, dtype=torch.bool)
    box[0, 5:20, 5:30] = True
    box[1, 25:38, 30:46] = True
    click = torch.zeros(1, 40, 48, dtype=torch.bool)
    click[0, 10, 10] = True  # one pixel: smaller than a stride-16 cell, still pooled
    out = enc(images, [box, click], [['box', 'mask'], ['point']])
    assert [o.shape for o in out] == [(2, 32), (1, 32)]
    assert torch.isfinite(torch.cat(out)).all()
    assert not torch.allclose(out[0][0], out[0][1], atol=1e-4)  # two regions, two embeddings
    again = enc(images, [box[:1], None], [['box'], []])  # a sample without regions: [0, D]
    torch.testing.assert_close(again[0][0], out[0][0])
    assert again[1].shape == (0, 32)


@pytest.fixture(scope='module')
def region_model(tokenizer_dir):
    det = Config.fromfile(osp.join(REPO, 'configs/_base_/models/det_decoder_tiny.py')).det_decoder.to_dict()
    cfg = dict(tiny_model_cfg(tokenizer_dir, decoders=dict(det=det)), region_encoder=dict(channels=8))
    with DefaultScope.overwrite_default_scope('visionllm'):
        model = MODELS.build(cfg)
    model.init_weights()
    return model


def _region_sample(model, messages, masks, kinds):
    s = VisionLLMDataSample(metainfo=dict(messages=messages, region_prompts=[dict(kind=k) for k in kinds],
                                          img_path='x.png'))
    s.region_masks = masks
    return s


def test_region_tokens_name_groups_and_carry_their_region(region_model):
    """The k-th `<region>` of a sequence carries region k mod R; in an answer it is the group's name, and the
    group's name embedding is that region's embedding itself."""
    m = region_model
    assert len(m.tokenizer('<region>', add_special_tokens=False).input_ids) == 1
    masks = torch.zeros(2, 32, 32, dtype=torch.bool)
    masks[0, :10, :10] = masks[1, 20:, 20:] = True
    s = _region_sample(m, prompts.interactive_seg_conversation(2), masks, ['box', 'mask'])
    images = torch.randn(1, 3, 32, 32)
    feats = m.region_features(dict(images=images), [s])
    ids, _, mask = m.sequences([s], torch.tensor([0]))
    ids = ids[:, [i for i in range(ids.shape[1]) if ids[0, i] != m.mllm.model.config.image_token_id]]
    embeds = m.embed(ids, None, feats)
    at = (ids[0] == m.region_token_id).nonzero().flatten()
    assert len(at) == 4  # two in the question, two in the answer
    for k, p in enumerate(at.tolist()):
        torch.testing.assert_close(embeds[0, p], feats[0][k % 2])
    conds = m.superlink.gather(torch.randn(*embeds.shape), ids, embeds)['det']
    assert conds.names == ['<region>', '<region>'] and conds.tokens == ['[GRD]', '[GRD]']
    torch.testing.assert_close(conds.name_embeddings, feats[0])


def test_a_region_token_without_a_region_is_an_error(region_model):
    m = region_model
    s = VisionLLMDataSample(metainfo=dict(messages=prompts.detect_by_example_conversation(1), img_path='x.png'))
    ids, _, _ = m.sequences([s], torch.tensor([0]))
    ids = ids[:, [i for i in range(ids.shape[1]) if ids[0, i] != m.mllm.model.config.image_token_id]]
    with pytest.raises(PromptError, match='no region was given'):
        m.embed(ids, None, None)
    s9 = _region_sample(m, prompts.detect_by_example_conversation(1), torch.ones(9, 8, 8, dtype=torch.bool),
                        ['box'] * 9)
    with pytest.raises(PromptError, match='9 regions; the model takes at most 8'):
        m.region_features(dict(images=torch.zeros(1, 3, 8, 8)), [s9])


def _batch(synth_root, task, test_mode):
    pipeline = [dict(type='LoadImage'), dict(type='LoadDetAnnotations', with_bbox=True, with_mask=True),
                dict(type='mmdet.Resize', scale=(64, 64), keep_ratio=True),
                dict(type='BuildRegionConversation', task=task, test_mode=test_mode),
                dict(type='PackVisionLLMInputs', tile_size=64)]
    with DefaultScope.overwrite_default_scope('visionllm'):
        ds = DATASETS.build(dict(type='RegionDataset', task=task, data_root=synth_root, data_prefix=dict(img=''),
                                 ann_file='annotations/instances_train.json', pipeline=pipeline, test_mode=test_mode))
    return [ds[i] for i in range(3)]


def test_region_samples_train_the_region_encoder_and_predict_their_group(region_model, synth_root):
    """An interactive-segmentation + by-example batch: finite losses whose gradient reaches the region encoder
    (through the LLM and the group's name embedding); prediction labels every instance with its region's group."""
    m = region_model
    torch.manual_seed(0)
    items = _batch(synth_root, 'interactive-seg', False) + _batch(synth_root, 'detect-by-example', False)
    batch = pseudo_collate(items)
    m.train()
    losses = m(**m.data_preprocessor(batch, True), mode='loss')
    total = sum(v for k, v in losses.items() if 'loss' in k)
    assert torch.isfinite(total)
    m.zero_grad()
    total.backward()
    grads = [p.grad for p in m.region_encoder.parameters() if p.grad is not None]
    assert grads and sum(float(g.abs().sum()) for g in grads) > 0
    m.eval()
    out = m(**m.data_preprocessor(pseudo_collate(_batch(synth_root, 'interactive-seg', True)), False), mode='predict')
    for s in out:
        assert len(s.pred_instances) and set(s.pred_instances.labels.tolist()) == {0}
        assert s.pred_instances.masks.shape[1:] == tuple(s.ori_shape)
