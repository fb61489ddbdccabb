"""A task added with one decoder file and one task-spec entry (tests/apis/toy_foreground.py) and its config:
it trains with tools/train.py, is scored by tools/test.py with the metric its spec names, and answers through
tools/infer.py --task - no file of the package edited (docs/adding_a_task.md)."""
import json
import os.path as osp

from tests.conftest import tiny_config
from tests.tools.test_cli import run

SEG = 'configs/visionllm/visionllm_internvl-tiny_seg_1xb8-2k_synthetic.py'


def _foreground_config(synth_root, tokenizer_dir, work) -> str:
    cfg = tiny_config(SEG, synth_root, tokenizer_dir, work)
    cfg.custom_imports = dict(imports=['tests.apis.toy_foreground'], allow_failed_imports=False)
    cfg.model.superlink.families['fg'] = dict(tokens=['[FG]'], num_queries=8)
    cfg.model.decoders = dict(fg=dict(type='ForegroundDecoder'))
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        pipeline = cfg[key].dataset.pipeline
        k = next(i for i, t in enumerate(pipeline) if t['type'] == 'BuildSegmentationConversation')
        pipeline[k] = dict(type='BuildTaskConversation', task='foreground', names=['shape'])
        cfg[key].dataset.metainfo = dict(cfg[key].dataset.get('metainfo') or {}, task='foreground')  # for samplers
    cfg.val_evaluator = cfg.test_evaluator = [dict(type='ForegroundIoU')]
    cfg.val_dataloader.dataset.indices = cfg.test_dataloader.dataset.indices = 4
    path = osp.join(work, 'foreground.py')
    cfg.dump(path)
    return path


def test_a_new_task_trains_tests_and_infers(synth_root, tokenizer_dir, tmp_path):
    config = _foreground_config(synth_root, tokenizer_dir, str(tmp_path))
    r = run(['tools/train.py', config, '--work-dir', str(tmp_path)])
    log = r.stdout + r.stderr
    assert r.returncode == 0, log[-3000:]
    assert 'fg.loss_fg' in log and 'fg/IoU' in log, log[-3000:]  # its decoder's loss; its metric on val
    ckpt = str(tmp_path / 'iter_2.pth')

    r = run(['tools/test.py', config, ckpt, '--work-dir', str(tmp_path), '--json-out', str(tmp_path / 'm.json')])
    assert r.returncode == 0, (r.stdout + r.stderr)[-3000:]
    metrics = json.load(open(tmp_path / 'm.json'))
    assert 0.0 <= metrics['fg/IoU'] <= 1.0, metrics

    image = osp.join(synth_root, 'images', 'test', '000000.png')
    # the file (96 px) is downscaled to 64 px for the model: the map comes back at the file's size
    r = run(['tools/infer.py', image, config, '--weights', ckpt, '--task', 'foreground', '--texts', 'shape',
             '--max-image-size', '64', '--out-dir', str(tmp_path / 'infer')])
    assert r.returncode == 0, (r.stdout + r.stderr)[-3000:]
    (pred, ) = json.load(open(tmp_path / 'infer' / 'predictions.json'))
    assert pred['class_names'] == ['shape'] and pred['image'] == image and pred['image_size'] == [96, 96]
    fg = pred['pred_fg']
    assert [len(fg), len(fg[0]), len(fg[0][0])] == [1, 96, 96]  # [1, H, W] of the file
    assert osp.exists(tmp_path / 'infer' / 'vis' / '000000.png')  # drawn by the spec's drawing function


def test_the_spec_drawing_function_draws():
    """VisionLLMVisualizer calls the drawing function a task's spec names, for that task's samples."""
    import numpy as np
    import torch
    from mmengine.structures import PixelData

    from visionllm.registry import FUNCTIONS, TASKS
    from visionllm.structures import TaskSpec, VisionLLMDataSample
    from visionllm.visualization.visualizer import VisionLLMVisualizer

    @TASKS.register_module()
    class MarkTask(TaskSpec):
        name, draw = 'mark', 'draw_mark_test'

    @FUNCTIONS.register_module()
    def draw_mark_test(visualizer, image, sample):
        out = image.copy()
        out[sample.pred_mark.data[0].numpy()] = (255, 0, 255)
        return out

    try:
        mark = torch.zeros(1, 40, 60, dtype=torch.bool)
        mark[0, 10:20, 30:50] = True
        vis = VisionLLMVisualizer(name='mark_test', min_draw_size=0)
        for task, expected in (('mark', [255, 0, 255]), ('chat', [100, 100, 100])):
            s = VisionLLMDataSample(metainfo=dict(task=task, ori_shape=(40, 60), img_shape=(40, 60)))
            s.pred_mark = PixelData(data=mark)
            vis.add_datasample('x', np.full((40, 60, 3), 100, np.uint8), s)
            out = vis.get_image()
            assert (out[15, 40] == expected).all() and (out[5, 5] == 100).all(), task
    finally:
        TASKS.module_dict.pop('MarkTask')
        FUNCTIONS.module_dict.pop('draw_mark_test')
