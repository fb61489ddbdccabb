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
    assert all(h == 64 for h, _, _ in shapes)
    assert sorted(w for _, w, _ in shapes) == [64, 64, 128, 128]  # generated; source | edited
    assert all(osp.getsize(p) > 0 for p in pictures)
