"""Hooks through a real Runner on tiny configs."""
import glob
import os.path as osp

import cv2
from mmengine.runner import Runner

from tests.conftest import tiny_config

GEN_CFG = 'configs/visionllm/visionllm_internvl-tiny_gen-edit_1xb8-2k_synthetic.py'


def test_show_dir_draws_generated_and_edited_samples(synth_root, tokenizer_dir, tmp_path):
    """tools/test.py --show-dir on generation (no input image) and editing samples: one picture each."""
    cfg = tiny_config(GEN_CFG, synth_root, tokenizer_dir, str(tmp_path))
    for fam in ('gen', 'edit'):
        cfg.model.decoders[fam].test_cfg.num_inference_steps = 1
    for ds in cfg.test_dataloader.dataset.datasets:
        ds.indices = 2
    cfg.default_hooks.visualization = dict(type='VisionLLMVisualizationHook', draw=True, test_out_dir='vis')
    Runner.from_cfg(cfg).test()
    pictures = sorted(glob.glob(str(tmp_path / '*' / 'vis' / '*.png')))
    assert len(pictures) == 4, pictures
    shapes = [cv2.imread(p).shape for p in pictures]
    assert all(h == 512 for h, _, _ in shapes)  # 64 px images enlarged for drawing
    assert sorted(w for _, w, _ in shapes) == [512, 512, 1024, 1024]  # generated; source | edited
    assert all(osp.getsize(p) > 0 for p in pictures)


def test_bad_sample_count_resumes_with_the_checkpoint(tmp_path):
    """The skipped-sample total goes into the checkpoint's meta and comes back on resume."""
    import torch
    from mmengine.logging import MessageHub, MMLogger

    from visionllm.engine.hooks import BadSampleHook

    class Runner:  # the two attributes the hook reads from mmengine's Runner
        logger = MMLogger.get_current_instance()
        message_hub = MessageHub.get_current_instance()

    hook = BadSampleHook(max_detailed=1)
    hook.before_train_iter(Runner, 0, dict(skipped=[dict(index=3, reason='cannot decode image'),
                                                     dict(index=9, reason='empty prompt')]))
    ckpt = dict(meta=dict(iter=10), state_dict={})
    hook.before_save_checkpoint(Runner, ckpt)
    torch.save(ckpt, tmp_path / 'iter_10.pth')
    resumed = BadSampleHook()
    resumed.after_load_checkpoint(Runner, torch.load(tmp_path / 'iter_10.pth', weights_only=False))
    assert resumed.count == 2
    resumed.before_train_iter(Runner, 0, dict(skipped=[dict(index=4, reason='x')]))
    assert resumed.count == 3 and Runner.message_hub.get_info('train/skipped_samples') == 3


def test_samples_tokenised_in_workers_equal_the_models_encoding(synth_root, tokenizer_dir, tmp_path):
    """TokenizeInWorkersHook (added by build_runner_cfg): every source of the joint config, read by 1-worker
    dataloaders, carries token ids equal to the model's own encoding; the model uses them; a sample too long
    for max_length becomes a skipped sample."""
    import torch

    from visionllm.apis.runner_utils import build_runner, build_runner_cfg
    from visionllm.engine.hooks import packers
    cfg = tiny_config('configs/visionllm/visionllm_internvl-tiny_stage2-joint_1xb8-3k_synthetic.py', synth_root,
                      tokenizer_dir, str(tmp_path))
    cfg.load_from = None
    path = str(tmp_path / 'joint.py')
    cfg.dump(path)
    cfg = build_runner_cfg(path)
    assert cfg.custom_hooks[-1]['type'] == 'TokenizeInWorkersHook'
    runner = build_runner(cfg)
    runner._train_loop = runner.build_train_loop(runner._train_loop)
    runner.call_hook('before_train')
    model = runner.model
    sources = runner.train_dataloader.dataset.datasets
    assert len(packers(runner.train_dataloader.dataset)) == len(sources) and all(
        p.encoder is not None for p in packers(runner.train_dataloader.dataset))
    for ds in sources:
        loader = torch.utils.data.DataLoader(ds, batch_size=2, num_workers=1, collate_fn=lambda b: b)
        for item in next(iter(loader)):
            s = item['data_samples']
            ids, labels = model.encode_sample(s, s.num_tiles, False)
            assert s.token_ids == ids and s.token_labels == labels, s.task
        marked = s.clone()
        marked.set_metainfo(dict(token_ids=s.token_ids[:-1] + [7], token_labels=s.token_labels))
        ids, labels, _ = model.sequences([marked], [s.num_tiles])  # the worker's ids are used as they are
        assert ids[0].tolist() == s.token_ids[:-1] + [7]
    model.max_length = 8
    short = model.conversation_encoder()
    p = packers(sources[0])[0]
    p.encoder = short
    item = sources[0][0]
    assert 'skipped' in item and 'exceed max_length=8' in item['skipped']['reason']
