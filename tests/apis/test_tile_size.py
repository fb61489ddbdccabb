"""One setting for the tile size: the vision tower's image_size reaches every packing transform."""
import json

import torch
from mmengine.runner import Runner

from tests.conftest import tiny_config
from visionllm.apis.runner_utils import build_runner_cfg
from visionllm.apis.tile_size import model_tile_size, sync_tile_size

MAIN = 'configs/visionllm/visionllm_internvl-tiny_det-text_1xb8-1.8k_synthetic.py'


def _pack_sizes(cfg) -> set:
    sizes = set()

    def walk(node):
        if isinstance(node, dict):
            if node.get('type') == 'PackVisionLLMInputs':
                sizes.add(node['tile_size'])
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)
    walk(cfg.to_dict())
    return sizes


def test_a_new_vision_tile_size_reaches_every_pipeline_and_trains(synth_root, tokenizer_dir, tmp_path):
    cfg = tiny_config(MAIN, synth_root, tokenizer_dir, str(tmp_path))
    assert _pack_sizes(cfg) == {64}
    cfg.dump(str(tmp_path / 'tiny.py'))
    # the only change, as on the command line: 32 px tiles (patch 8: 4 image tokens per tile)
    cfg = build_runner_cfg(str(tmp_path / 'tiny.py'), {'model.mllm.vision_config.image_size': 32})
    assert _pack_sizes(cfg) == {32} and sync_tile_size(cfg) == 32
    runner = Runner.from_cfg(cfg)
    batch = next(iter(Runner.build_dataloader(cfg.train_dataloader)))
    assert batch['inputs']['tiles'][0].shape[-2:] == (32, 32)
    losses = runner.model(**runner.model.data_preprocessor(batch, True), mode='loss')
    assert all(torch.isfinite(v).all() for v in losses.values())


def test_tile_size_of_real_weights_comes_from_their_config_json(tmp_path):
    (tmp_path / 'config.json').write_text(json.dumps(dict(vision_config=dict(image_size=[448, 448]))))
    assert model_tile_size(dict(pretrained=str(tmp_path))) == 448
    # the model ignores vision_config when it loads a checkpoint: the checkpoint's size is the one that counts
    assert model_tile_size(dict(vision_config=dict(image_size=224), pretrained=str(tmp_path))) == 448
    assert model_tile_size(dict(vision_config=dict(image_size=224))) == 224
    assert model_tile_size(dict()) is None  # transformers' default applies; pipelines stay as written
