import json
import os.path as osp

import numpy as np
import pytest

from tests.conftest import tiny_config
from visionllm.apis import VisionLLMInferencer, parse_texts
from visionllm.utils.errors import PromptError

DET_CFG = 'configs/visionllm/visionllm_internvl-tiny_det_1xb8-2k_synthetic.py'


@pytest.fixture(scope='module')
def inferencer(synth_root, tokenizer_dir, tmp_path_factory):
    cfg = tiny_config(DET_CFG, synth_root, tokenizer_dir, str(tmp_path_factory.mktemp('inf')))
    cfg.model.decoders.det.test_cfg.max_per_img = 5
    return VisionLLMInferencer(cfg, max_classes_per_prompt=2)


def test_parse_texts():
    assert parse_texts('red circle . blue square .') == ['red circle', 'blue square']
    with pytest.warns(UserWarning, match='duplicate'):
        assert parse_texts(['a', 'a', 'b']) == ['a', 'b']
    for bad in ('', ' . ', None):
        with pytest.raises(PromptError):
            parse_texts(bad)
    with pytest.raises(PromptError, match='may not contain'):
        parse_texts('a, b')


def test_detect_batched_chunked_writes_files(inferencer, synth_root, tmp_path):
    imgs = osp.join(synth_root, 'images/val')
    out = inferencer(imgs, texts='red circle . blue square . purple star', batch_size=4, pred_score_thr=0.0,
                     out_dir=str(tmp_path), return_vis=True)
    assert len(out['predictions']) == 8 == len(out['visualization'])
    p = out['predictions'][0]
    # 3 names in chunks of 2 -> 2 prompts per image, 5 detections each
    assert len(p['label_names']) == 10 and set(p['label_names']) <= {'red circle', 'blue square', 'purple star'}
    assert len(p['masks']) == 10 and all(len(b) == 4 for b in p['bboxes'])
    assert max(max(b) for b in p['bboxes']) <= 96  # original image coordinates
    with open(tmp_path / 'preds' / '000000.json') as f:
        assert json.load(f)['label_names'] == p['label_names']
    assert osp.exists(tmp_path / 'vis' / '000000.png')


def test_free_mode_and_arrays_and_chat(inferencer):
    img = np.zeros((80, 100, 3), np.uint8)
    out = inferencer([img, img], texts='red circle', free=True, batch_size=2, pred_score_thr=0.0)
    assert len(out['predictions']) == 2 and 'text' in out['predictions'][0]
    answer = inferencer.chat(img, 'How many red circles are there?', max_new_tokens=4)
    assert isinstance(answer, str)
    with pytest.raises(PromptError, match='no such image'):
        inferencer('missing.png', texts='a')
