"""DDP / FSDP / DeepSpeed on CPU with 2 processes (torchrun, gloo) against a single process."""
import json
import os
import os.path as osp
import subprocess
import sys

import pytest
import torch

from tests.conftest import REPO, free_port, tiny_config

TEXT_CFG = 'configs/visionllm/visionllm_internvl-tiny_text_1xb8-2k_synthetic.py'
MAIN_CFG = 'configs/visionllm/visionllm_internvl-tiny_det-text_1xb8-1.8k_synthetic.py'


def _equal_length_data(root: str, tokenizer_dir: str) -> str:
    """8 VQA rows whose answers are all one token (+ <|im_end|>): token means equal sample means, so the
    DDP average of per-rank losses equals the single-process loss of the same global batch."""
    from transformers import AutoTokenizer
    tok = AutoTokenizer.from_pretrained(tokenizer_dir)
    rows = [json.loads(line) for line in open(osp.join(root, 'conversations/vqa_train.jsonl'))]
    rows = [r for r in rows if len(tok(' ' + r['conversations'][1]['value'],  # answers after a space (answer_space)
                                         add_special_tokens=False).input_ids) == 1][:8]
    assert len(rows) == 8
    path = osp.join(root, 'conversations/vqa_equal.jsonl')
    with open(path, 'w') as f:
        f.writelines(json.dumps(r) + '\n' for r in rows)
    return path


def _config(tmp_path, synth_root, tokenizer_dir, batch_size: int) -> str:
    cfg = tiny_config(TEXT_CFG, synth_root, tokenizer_dir, str(tmp_path), iters=2)
    ann = _equal_length_data(synth_root, tokenizer_dir)
    cfg.train_dataloader = dict(
        batch_size=batch_size, num_workers=0, sampler=dict(type='DefaultSampler', shuffle=False),
        collate_fn=dict(type='visionllm.visionllm_collate'),
        dataset=dict(type='ConversationDataset', data_root=synth_root, ann_file=ann, task='vqa',
                     pipeline=cfg.text_pipeline))
    cfg.train_cfg = dict(type='IterBasedTrainLoop', max_iters=2, val_interval=100)
    cfg.val_dataloader = cfg.val_evaluator = cfg.val_cfg = None
    cfg.test_dataloader = cfg.test_evaluator = cfg.test_cfg = None
    cfg.param_scheduler = []
    cfg.optim_wrapper = dict(type='OptimWrapper', optimizer=dict(type='AdamW', lr=1e-3, weight_decay=0.0))
    cfg.custom_hooks = [dict(type='LossRecorderHook')]
    cfg.custom_imports = dict(imports=['tests.engine.loss_recorder'], allow_failed_imports=False)
    cfg.model.mllm.text_config.update(hidden_size=64, intermediate_size=128)
    cfg.randomness = dict(seed=0, deterministic=False)
    path = str(tmp_path.parent / f'{tmp_path.name}_cfg.py')  # not in the work dir: the runner dumps there
    cfg.dump(path)
    return path


def _run(args, nproc: int = 1):
    env = dict(os.environ, PYTHONPATH=REPO, OMP_NUM_THREADS='1', MASTER_PORT=str(free_port()))
    cmd = [sys.executable, 'tools/train.py', *args] if nproc == 1 else \
        [sys.executable, '-m', 'torch.distributed.run', f'--nproc_per_node={nproc}', '--master_port',
         env['MASTER_PORT'], 'tools/train.py', *args, '--launcher', 'pytorch']
    r = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, (r.stdout + r.stderr)[-4000:]
    return r


def _weights(path):
    sd = torch.load(path, map_location='cpu', weights_only=False)
    sd = sd.get('state_dict', sd.get('module', sd))
    return {k.replace('module.', '', 1): v.float() for k, v in sd.items() if torch.is_tensor(v)}


def _losses(work):
    return [json.load(open(osp.join(work, f))) for f in sorted(os.listdir(work)) if f.startswith('losses_rank')]


@pytest.fixture(scope='module')
def single(tmp_path_factory, synth_root, tokenizer_dir):
    work = tmp_path_factory.mktemp('single')
    _run([_config(work, synth_root, tokenizer_dir, 4), '--work-dir', str(work)])
    return work


def test_ddp_matches_single_process_and_resumes(single, tmp_path, synth_root, tokenizer_dir):
    cfg = _config(tmp_path, synth_root, tokenizer_dir, 2)
    _run([cfg, '--work-dir', str(tmp_path)], nproc=2)
    (ref, ), (r0, r1) = _losses(single), _losses(tmp_path)
    for step in range(2):
        assert abs((r0[step]['loss'] + r1[step]['loss']) / 2 - ref[step]['loss']) < 1e-4
    a, b = _weights(single / 'iter_2.pth'), _weights(tmp_path / 'iter_2.pth')
    assert a.keys() == b.keys()
    for k in a:
        assert torch.allclose(a[k], b[k], atol=1e-4), k
    _run([cfg, '--work-dir', str(tmp_path), '--resume', '--cfg-options', 'train_cfg.max_iters=3'], nproc=2)
    assert all(len(r) == 3 for r in _losses(tmp_path))  # resumed at iteration 2, one more step per rank
    assert osp.exists(tmp_path / 'iter_3.pth')


def test_ddp_step_where_one_rank_has_no_detection_sample(tmp_path, synth_root, tokenizer_dir):
    """Mixed batches: rank 0 draws a detection and a VQA sample, rank 1 two VQA samples (DefaultSampler
    deals indices 0, 2 / 1, 3). Rank 1 never calls the detection head, so the head must not all-reduce its
    loss normalisers (before the fix: a gloo size mismatch, SIGABRT)."""
    cfg = tiny_config(MAIN_CFG, synth_root, tokenizer_dir, str(tmp_path), iters=1)
    cfg.train_dataloader = dict(
        batch_size=2, num_workers=0, sampler=dict(type='DefaultSampler', shuffle=False),
        collate_fn=dict(type='visionllm.visionllm_collate'),
        dataset=dict(type='ConcatDataset', ignore_keys=['classes', 'palette'],
                     datasets=[dict(cfg.det_train, indices=1), dict(cfg.vqa_train, indices=3)]))
    cfg.val_dataloader = cfg.val_evaluator = cfg.val_cfg = None
    cfg.test_dataloader = cfg.test_evaluator = cfg.test_cfg = None
    assert 'touch_unused_decoders' not in cfg.model  # set by the launcher: rank 1's decoder joins the all-reduce
    cfg.custom_hooks = [dict(type='LossRecorderHook')]
    cfg.custom_imports = dict(imports=['tests.engine.loss_recorder'], allow_failed_imports=False)
    path = str(tmp_path.parent / f'{tmp_path.name}_cfg.py')
    cfg.dump(path)
    _run([path, '--work-dir', str(tmp_path)], nproc=2)
    (r0, ), (r1, ) = _losses(tmp_path)
    assert r0['det.loss_cls'] > 0 and 'det.loss_cls' not in r1
    assert r1['det.loss_unused'] == 0.0 and osp.exists(tmp_path / 'iter_1.pth')


def test_distributed_launch_touches_unused_decoders_unless_the_config_says():
    from mmengine.config import Config

    from visionllm.engine.scale_out import touch_decoders_when_distributed
    cfg = Config.fromfile(osp.join(REPO, MAIN_CFG))
    touch_decoders_when_distributed(cfg)  # no launcher: single-process training is unchanged
    assert 'touch_unused_decoders' not in cfg.model
    cfg.launcher = 'pytorch'
    touch_decoders_when_distributed(cfg)
    assert cfg.model.touch_unused_decoders is True
    cfg.model.touch_unused_decoders = False
    touch_decoders_when_distributed(cfg)
    assert cfg.model.touch_unused_decoders is False
    spec = Config.fromfile(osp.join(REPO, 'configs/visionllm/specialist-tiny_det_1xb8-2k_synthetic.py'))
    spec.launcher = 'pytorch'
    touch_decoders_when_distributed(spec)  # not a VisionLLM: no such option
    assert 'touch_unused_decoders' not in spec.model


@pytest.mark.parametrize('engine', ['fsdp', 'zero2', 'zero3'])
def test_flexible_runner_engines_match_and_resume(engine, single, tmp_path, synth_root, tokenizer_dir):
    if engine.startswith('zero'):
        pytest.importorskip('deepspeed')
    flag = ['--fsdp'] if engine == 'fsdp' else ['--deepspeed', engine]
    cfg = _config(tmp_path, synth_root, tokenizer_dir, 2)
    _run([cfg, '--work-dir', str(tmp_path), *flag], nproc=2)
    (ref, ), ranks = _losses(single), _losses(tmp_path)
    assert abs(sum(r[0]['loss'] for r in ranks) / 2 - ref[0]['loss']) < 1e-3
    assert osp.exists(tmp_path / 'iter_2.pth')
    if engine.startswith('zero'):  # a DeepSpeed checkpoint directory: the tools read its consolidated weights
        from visionllm.apis.checkpoints import loadable_checkpoint
        assert osp.isdir(tmp_path / 'iter_2.pth')
        a, b = _weights(single / 'iter_2.pth'), _weights(loadable_checkpoint(str(tmp_path / 'iter_2.pth'),
                                                                             str(tmp_path / 'fp32')))
        assert set(a) <= set(b)
        for k in a:
            assert torch.allclose(a[k], b[k], atol=1e-3), k
    _run([cfg, '--work-dir', str(tmp_path), *flag, '--resume', '--cfg-options', 'train_cfg.max_iters=3'], nproc=2)
    ranks = _losses(tmp_path)
    assert len(ranks[0]) == 3  # 2 steps, then exactly one more after resuming at iteration 2
    assert osp.exists(tmp_path / 'iter_3.pth')


def test_every_tiny_config_trains_under_ddp(tmp_path, synth_root, tokenizer_dir):
    """2 iterations of every tiny training config under 2-process DDP (gloo), one process group, built
    through tools/train.py's config path (type checks included): no parameter without a gradient, no rank
    out of step (e.g. a rank whose batch holds only text-to-image prompts, no image; the closed-set
    specialists, whose decoders have no name term)."""
    import glob
    paths = []
    # configs of real data (custom COCO / PNG / keypoints, LVIS, ADE20K, RefCOCO) run on real-format fixtures in
    # tests/tools/test_real_data.py or build their datasets in tests/test_configs.py; the same models train here
    # through the synthetic configs; the sharded main job (a streamed variant of the main job) trains from shards
    # in tests/datasets/test_streaming.py
    real = ('_custom-coco.py', '_custom-png.py', '_custom-cocokpt.py', '_lvis.py', '_ade20k.py', '_refcoco.py',
            '-shards.py')
    configs = [c for c in sorted(glob.glob(osp.join(REPO, 'configs/visionllm/*tiny*.py'))) if not c.endswith(real)]
    for i, config in enumerate(configs):
        cfg = tiny_config(osp.relpath(config, REPO), synth_root, tokenizer_dir, str(tmp_path / str(i)), iters=2)
        cfg.val_dataloader = cfg.val_evaluator = cfg.val_cfg = None
        cfg.load_from = None  # staged recipes start from the previous stage's checkpoint
        cfg.custom_hooks = [h for h in cfg.custom_hooks if h['type'] in ('BadSampleHook', 'ThroughputHook')]
        paths.append(str(tmp_path / f'{i}_{osp.basename(config)}'))
        cfg.dump(paths[-1])
    env = dict(os.environ, PYTHONPATH=REPO, OMP_NUM_THREADS='1', MASTER_PORT=str(free_port()))
    r = subprocess.run([sys.executable, '-m', 'torch.distributed.run', '--nproc_per_node=2', '--master_port',
                        env['MASTER_PORT'], 'tests/engine/ddp_configs_worker.py', *paths],
                       cwd=REPO, env=env, capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, (r.stdout + r.stderr)[-4000:]
    trained = [line.split(' ', 1)[1] for line in r.stdout.splitlines() if line.startswith('trained ')]
    assert trained == paths
