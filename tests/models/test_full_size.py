"""The InternVL3-1B full-size generalist at real widths, with each stack cut to one layer: for every decoder
family, one training step (loss + backward) and one prompted prediction on 448 px tiles, from the config's
own full-size pipelines."""
import pytest
import torch
from mmengine.runner import Runner

from tests.conftest import tiny_config
from visionllm.apis.cut_depth import cut_depth
from visionllm.apis.tile_size import sync_tile_size
from visionllm.registry import MODELS

FULL = 'configs/visionllm/visionllm_internvl3-1b_det-seg-pose-gen-edit_8xb4-20k_synthetic-full.py'
DATASET = dict(det='CocoOVDDataset', seg='SemSegDataset', pose='CocoKeypointDataset', gen='TextToImageDataset',
               edit='EditDataset')


def _batch(cfg, family: str, split: str):
    mixture = cfg.train_dataloader.dataset.datasets
    train = next(d for d in mixture if d.type == DATASET[family])
    dataset = train if split == 'train' else next(
        d for d in cfg.val_dataloader.dataset.datasets if d.type == DATASET[family])
    loader = dict(dataset=dataset, batch_size=2 if split == 'train' else 1, num_workers=0,
                  sampler=dict(type='DefaultSampler', shuffle=False),
                  collate_fn=dict(type='visionllm.visionllm_collate'))
    return next(iter(Runner.build_dataloader(loader)))


@pytest.fixture(scope='module')
def full_model(synth_root, tokenizer_dir, tmp_path_factory):
    cfg = tiny_config(FULL, synth_root, tokenizer_dir, str(tmp_path_factory.mktemp('full')))
    cfg.model.mllm.tokenizer = dict(path=tokenizer_dir)
    cut_depth(cfg)
    assert sync_tile_size(cfg) == 448
    torch.manual_seed(0)
    return cfg, MODELS.build(cfg.model)


@pytest.mark.parametrize('family', sorted(DATASET))
def test_full_width_generalist_trains_and_predicts(full_model, family):
    cfg, model = full_model
    assert model.mllm.model.config.text_config.hidden_size == 896 and model.mllm.num_image_tokens == 256
    model.train()
    batch = _batch(cfg, family, 'train')
    assert batch['inputs']['tiles'][0].shape[-2:] == (448, 448)
    losses = model(**model.data_preprocessor(batch, True), mode='loss')
    mine = {k: v for k, v in losses.items() if k.startswith(family + '.') and 'unused' not in k}
    assert mine and all(torch.isfinite(v).all() for v in losses.values()), sorted(losses)
    model.zero_grad(set_to_none=True)
    sum(v for k, v in losses.items() if 'loss' in k).backward()
    decoder_grads = [p.grad for p in model.decoders[family].parameters() if p.grad is not None]
    assert decoder_grads and any(g.abs().sum() > 0 for g in decoder_grads)
    slot_grads = model.superlink.state_dict(keep_vars=True)
    assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in slot_grads.values() if p.requires_grad)
    model.zero_grad(set_to_none=True)

    model.eval()
    with torch.no_grad():
        batch = _batch(cfg, family, 'val')
        (out, ) = model(**model.data_preprocessor(batch, False), mode='predict')
    if family in ('det', 'pose'):
        inst = out.pred_pose if family == 'pose' else out.pred_instances
        assert len(inst) > 0 and inst.bboxes.shape[-1] == 4
        if family == 'det':
            assert inst.masks.shape[-2:] == tuple(out.metainfo['ori_shape'])
    elif family == 'seg':
        assert out.pred_sem_seg.data.shape[-2:] == tuple(out.metainfo['ori_shape'])
    else:
        assert tuple(out.pred_image.shape) == (3, 256, 256), out.pred_image.shape  # uint8 [3, S, S]
