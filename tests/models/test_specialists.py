"""The no-LLM closed-set baselines train and evaluate through the Runner on the tiny data."""
import pytest
import torch
from mmengine.runner import Runner

from tests.conftest import tiny_config
from visionllm.registry import MODELS

CFG = 'configs/visionllm/specialist-tiny_{}_1xb8-2k_synthetic.py'
SPECIALISTS = {  # config: (loss keys, a metric key)
    CFG.format('det'): ({'det.loss_cls', 'det.loss_mask'}, 'det/bbox_mAP'),
    CFG.format('seg'): ({'semseg.loss_ce', 'semseg.loss_dice'}, 'seg/mIoU'),
    CFG.format('det-pose'): ({'det.loss_cls', 'pose.loss_kpt'}, 'pose/AP'),
}


@pytest.mark.parametrize('path', sorted(SPECIALISTS))
def test_specialist_trains_and_evaluates(path, synth_root, tokenizer_dir, tmp_path):
    loss_keys, metric = SPECIALISTS[path]
    cfg = tiny_config(path, synth_root, tokenizer_dir, str(tmp_path))
    if 'pose' in path:  # 2 iterations: keypoints on every detected box, however unsure
        cfg.model.members.pose.decoder.test_cfg.score_thr = 0.0
    runner = Runner.from_cfg(cfg)
    batch = next(iter(Runner.build_dataloader(cfg.train_dataloader)))  # own sampler: the runner's stays fresh
    losses = runner.model(**runner.model.data_preprocessor(batch, True), mode='loss')
    assert loss_keys <= set(losses), sorted(losses)
    assert all(torch.isfinite(v).all() for v in losses.values())
    runner.train()
    metrics = runner.val()
    assert metric in metrics, sorted(metrics)
    assert 0.0 <= metrics[metric] <= 1.0, metrics


def test_closed_set_specialist_cannot_name_unknown_classes(synth_root, tokenizer_dir, tmp_path):
    path = 'configs/visionllm/specialist-tiny_det_1xb8-2k_synthetic.py'
    cfg = tiny_config(path, synth_root, tokenizer_dir, str(tmp_path))
    model = Runner.from_cfg(cfg).model
    data = model.data_preprocessor(next(iter(Runner.build_dataloader(cfg.val_dataloader))), False)
    data['data_samples'][0].set_metainfo(dict(class_names=['pink hexagon']))
    with pytest.raises(ValueError, match="cannot name \\['pink hexagon'\\]"):
        model(**data, mode='predict')


def test_chain_rejects_no_members():
    with pytest.raises(ValueError, match='at least one member'):
        MODELS.build(dict(type='SpecialistChain', members={}))
