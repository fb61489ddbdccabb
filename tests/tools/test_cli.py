"""tools/train.py and tools/test.py in subprocesses on tiny configs."""
import glob
import os
import os.path as osp
import subprocess
import sys

import pytest

from tests.conftest import REPO, THREADS, tiny_config

TEXT_CFG = 'configs/visionllm/visionllm_internvl-tiny_text_1xb8-2k_synthetic.py'
DET_CFG = 'configs/visionllm/visionllm_internvl-tiny_det_1xb8-2k_synthetic.py'


def run(args, timeout=600):
    env = dict(os.environ, PYTHONPATH=REPO, OMP_NUM_THREADS=str(THREADS))
    return subprocess.run([sys.executable, *args], cwd=REPO, env=env, capture_output=True, text=True,
                          timeout=timeout)


@pytest.fixture(scope='module')
def det_run(tmp_path_factory, synth_root, tokenizer_dir):
    """2 iterations of the detection config through tools/train.py."""
    work = tmp_path_factory.mktemp('det_run')
    cfg = tiny_config(DET_CFG, synth_root, tokenizer_dir, str(work))
    for ds in cfg.val_dataloader.dataset.datasets:
        ds.indices = 2
    img = osp.join(synth_root, 'images/val/000000.png')
    cfg.custom_hooks.append(dict(type='PeriodicInferenceHook', interval=2, prompts=[
        dict(image=img, task='det', texts='red circle . blue star'), dict(image=img, task='chat', question='Hi?')]))
    path = str(work / 'cfg.py')
    cfg.dump(path)
    r = run(['tools/train.py', path])
    assert r.returncode == 0, r.stderr[-3000:]
    return work, path, r


def test_train_two_iterations_then_resume(det_run, tmp_path):
    work, path, r = det_run
    log = r.stdout + r.stderr
    assert 'Iter(train) [2/2]' in log and 'det.loss_cls' in log and 'lm.loss' in log
    assert 'training sample (det' in log and '[DET][EMB]' in log      # ShowTrainSampleHook
    assert 'samples_per_s' in log and 'tokens_per_s' in log           # ThroughputHook
    assert 'tokenising training samples in the dataloader workers (pipelines: 1)' in log  # TokenizeInWorkersHook
    answers = glob.glob(str(work / '*' / 'periodic_inference' / 'iter_2.json'))  # PeriodicInferenceHook
    assert len(answers) == 1 and len(glob.glob(str(work / '*' / 'periodic_inference' / 'iter_2_0.png'))) == 1
    import json
    saved = json.load(open(answers[0]))
    assert 'predictions' in saved[0] and isinstance(saved[1]['answer'], str)
    assert osp.exists(work / 'iter_2.pth')
    r2 = run(['tools/train.py', path, '--resume', '--cfg-options', 'train_cfg.max_iters=3',
              'train_cfg.val_interval=100'])
    assert r2.returncode == 0, r2.stderr[-3000:]
    log2 = r2.stdout + r2.stderr
    assert 'resumed' in log2.lower() and 'Iter(train) [3/3]' in log2 and 'Iter(train) [1/3]' not in log2
    assert osp.exists(work / 'iter_3.pth')


def test_test_tool_reports_map_dumps_and_draws(det_run):
    work, path, _ = det_run
    out = str(work / 'preds.pkl')
    r = run(['tools/test.py', path, str(work / 'iter_2.pth'), '--out', out, '--show-dir', 'vis',
             '--cfg-options', 'test_dataloader.dataset.datasets.0.indices=1',
             'test_dataloader.dataset.datasets.1.indices=1'])
    assert r.returncode == 0, r.stderr[-3000:]
    assert 'det/bbox_mAP' in r.stdout + r.stderr and 'det/segm_mAP' in r.stdout + r.stderr
    assert osp.getsize(out) > 0
    assert len(glob.glob(str(work / '*' / 'vis' / '*.png'))) == 2


def test_text_config_trains_and_cli_errors(synth_root, tokenizer_dir, tmp_path):
    cfg = tiny_config(TEXT_CFG, synth_root, tokenizer_dir, str(tmp_path))
    cfg.val_dataloader.dataset.datasets[0].indices = 2
    cfg.val_dataloader.dataset.datasets[1].indices = 2
    path = str(tmp_path / 'cfg.py')
    cfg.dump(path)
    r = run(['tools/train.py', path])
    assert r.returncode == 0, r.stderr[-3000:]
    assert 'vqa/accuracy' in r.stdout + r.stderr
    bad = run(['tools/train.py', path, '--cfg-options', 'model.type=VisionLM'])
    assert bad.returncode == 2 and "did you mean 'VisionLLM'" in bad.stderr and 'Traceback' not in bad.stderr
    missing = run(['tools/test.py', path, str(tmp_path / 'nope.pth')])
    assert missing.returncode == 2 and 'not found' in missing.stderr
