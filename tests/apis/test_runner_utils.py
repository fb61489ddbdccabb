"""--cfg-options on a config's top-level variables reach the values built from them."""
import os.path as osp

from tests.conftest import REPO
from visionllm.apis.runner_utils import build_runner_cfg

CUSTOM_COCO = osp.join(REPO, 'configs/visionllm/visionllm_internvl-tiny_det_1xb8-2k_custom-coco.py')


def test_data_root_and_annotation_overrides_reach_datasets_and_evaluators(tmp_path):
    cfg = build_runner_cfg(CUSTOM_COCO, dict(data_root='/data/aerial/', train_ann='ann/train.json',
                                             val_ann='ann/val.json'), work_dir=str(tmp_path))
    train, val = cfg.train_dataloader.dataset, cfg.val_dataloader.dataset
    assert train.data_root == val.data_root == cfg.test_dataloader.dataset.data_root == '/data/aerial/'
    assert train.ann_file == 'ann/train.json' and val.ann_file == 'ann/val.json'
    assert cfg.val_evaluator[0].ann_file == '/data/aerial/ann/val.json'
    assert cfg.test_evaluator[0].ann_file == '/data/aerial/annotations/instances_test.json'
    # values that merely contain the old text elsewhere are left alone
    assert cfg.model.mllm.tokenizer.path == 'data/tokenizers/synthetic-bpe'


def _resize_scales(node, found):
    if isinstance(node, dict):
        if node.get('type') == 'mmdet.Resize':
            found.append(tuple(node['scale']))
        for v in node.values():
            _resize_scales(v, found)
    elif isinstance(node, (list, tuple)):
        for v in node:
            _resize_scales(v, found)
    return found


def test_image_size_override_reaches_every_resize(tmp_path):
    cfg = build_runner_cfg(CUSTOM_COCO, dict(image_size=512), work_dir=str(tmp_path))
    d = cfg.to_dict()
    scales = set(_resize_scales({k: d[k] for k in ('train_dataloader', 'val_dataloader', 'test_dataloader',
                                                    'infer_pipeline')}, []))
    assert scales == {(512, 512)}
    assert cfg.model.mllm.vision_config.image_size == 64  # the vision tower's tile is its own setting
