"""bf16 autocast end to end on the CPU: `tools/train.py --amp` gives AutocastOptimWrapper (mmengine's
AmpOptimWrapper needs a GPU), and with it every decoder family's training step and prediction run in bf16
through the vision encoder, the LLM and the decoder."""
import math
import os.path as osp

import pytest
import torch
from mmengine.runner import Runner

from tests.conftest import tiny_config
from visionllm.apis.runner_utils import build_runner, build_runner_cfg

JOINT = 'configs/visionllm/visionllm_internvl-tiny_stage2-joint_1xb8-3k_synthetic.py'
DATASET = dict(det='CocoOVDDataset', seg='SemSegDataset', pose='CocoKeypointDataset', gen='TextToImageDataset',
               edit='EditDataset')


def _batch(datasets, family: str, batch_size: int):
    dataset = next(d for d in datasets if d.type == DATASET[family])
    loader = dict(dataset=dataset, batch_size=batch_size, num_workers=0,
                  sampler=dict(type='DefaultSampler', shuffle=False),
                  collate_fn=dict(type='visionllm.visionllm_collate'))
    return next(iter(Runner.build_dataloader(loader)))


@pytest.fixture(scope='module')
def amp_runner(synth_root, tokenizer_dir, tmp_path_factory):
    if torch.cuda.is_available():
        pytest.skip('a GPU is present: --amp gives mmengine\'s AmpOptimWrapper (this test is the CPU path)')
    tmp = tmp_path_factory.mktemp('autocast')
    cfg = tiny_config(JOINT, synth_root, tokenizer_dir, str(tmp))
    cfg.load_from = None
    path = str(tmp / 'joint.py')
    cfg.dump(path)
    cfg = build_runner_cfg(path, amp=True)
    assert cfg.optim_wrapper.type == 'AutocastOptimWrapper' and cfg.optim_wrapper.dtype == 'bfloat16'
    runner = build_runner(cfg)
    runner.optim_wrapper = runner.build_optim_wrapper(runner.optim_wrapper)
    return cfg, runner


def _first_linear_dtypes(model):
    """Forward hooks recording the output dtype of the first nn.Linear of each component."""
    parts = dict(vision=model.mllm.model.model.vision_tower, llm=model.mllm.model.model.language_model,
                 **{f'decoder.{k}': v for k, v in model.decoders.items()})
    seen, handles = {}, []
    for name, part in parts.items():
        linear = next(m for m in part.modules() if isinstance(m, torch.nn.Linear))
        handles.append(linear.register_forward_hook(
            lambda m, i, o, name=name: None if name in seen else seen.update({name: o.dtype})))
    return seen, handles


@pytest.mark.parametrize('family', sorted(DATASET))
def test_bf16_autocast_train_step_and_prediction(amp_runner, family):
    cfg, runner = amp_runner
    model = runner.model
    assert all(p.dtype == torch.float32 for p in model.parameters())  # fp32 master weights
    seen, handles = _first_linear_dtypes(model)
    try:
        model.train()
        before = {n: p.detach().clone() for n, p in model.decoders[family].named_parameters() if p.requires_grad}
        log_vars = model.train_step(_batch(cfg.train_dataloader.dataset.datasets, family, 2), runner.optim_wrapper)
        assert any(k.startswith(family + '.') for k in log_vars), sorted(log_vars)
        assert all(math.isfinite(float(v.detach())) for v in log_vars.values()), log_vars
        moved = [n for n, p in model.decoders[family].named_parameters() if n in before and
                 not torch.equal(before[n], p.detach())]
        assert moved, 'the step updated none of the decoder parameters'
        assert seen.get('llm') == torch.bfloat16 and seen.get(f'decoder.{family}') == torch.bfloat16, seen
        if family not in ('gen', ):  # text-to-image prompts carry no image
            assert seen.get('vision') == torch.bfloat16, seen

        seen.clear()
        model.eval()
        batch = _batch(cfg.val_dataloader.dataset.datasets, family, 1)
        if family == 'pose':  # an untrained model: keypoints for every detected box
            model.decoders['pose'].test_cfg['score_thr'] = 0.0
        if family in ('gen', 'edit'):
            model.decoders[family].test_cfg['num_inference_steps'] = 2
        with torch.no_grad(), torch.autocast('cpu', dtype=torch.bfloat16):
            (out, ) = model.test_step(batch)
        assert seen.get('llm') == torch.bfloat16, seen
        if family in ('det', 'pose'):
            inst = out.pred_pose if family == 'pose' else out.pred_instances
            h, w = out.metainfo['ori_shape']
            assert len(inst) and inst.bboxes.dtype == torch.float32 and torch.isfinite(inst.bboxes).all()
            assert (inst.bboxes[:, 2] <= w + 1).all() and (inst.bboxes[:, 3] <= h + 1).all()
            if family == 'pose':
                assert torch.isfinite(torch.as_tensor(inst.keypoints)).all()
        elif family == 'seg':
            assert out.pred_sem_seg.data.shape[-2:] == tuple(out.metainfo['ori_shape'])
        else:
            assert out.pred_image.dtype == torch.uint8 and out.pred_image.shape[0] == 3
    finally:
        for h in handles:
            h.remove()
    assert osp.isdir(cfg.work_dir)
