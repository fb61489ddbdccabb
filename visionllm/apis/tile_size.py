"""One setting for the MLLM's tile size: every packing transform of a config follows the vision tower.

The vision tower's ``image_size`` (the config's ``model.mllm.vision_config`` or, for real weights, the
``config.json`` of ``model.mllm.pretrained``) decides how many image tokens a tile gives; tiles of any other
size do not fit its position embeddings. :func:`sync_tile_size` sets ``tile_size`` of every
``PackVisionLLMInputs`` in the config (training, validation, test and inference pipelines) to it, so a
checkpoint with 448 px / patch-14 tiles works by changing the model alone.
"""
import json
import os.path as osp
from typing import Optional

from visionllm.utils.errors import ConfigError

PACK = 'PackVisionLLMInputs'


def _side(value) -> int:
    return int(value[0] if isinstance(value, (list, tuple)) else value)


def model_tile_size(mllm: dict) -> Optional[int]:
    """The vision tower's tile side in px from an ``InternVLMLLM`` config dict; None when it does not say
    (transformers' default then applies, and the config's pipelines are left as written)."""
    pretrained = mllm.get('pretrained')
    path = osp.join(pretrained, 'config.json') if pretrained else None
    if path and osp.isfile(path):  # a checkpoint's own size wins: the model ignores vision_config then
        try:
            with open(path) as f:
                size = (json.load(f).get('vision_config') or {}).get('image_size')
        except (OSError, json.JSONDecodeError) as err:
            raise ConfigError(f'{path}: not a readable JSON model config ({err})') from err
        return None if size is None else _side(size)
    vision = mllm.get('vision_config') or {}
    return _side(vision['image_size']) if vision.get('image_size') is not None else None


def sync_tile_size(cfg, tile: Optional[int] = None) -> Optional[int]:
    """Set ``tile_size`` of every packing transform in ``cfg`` (an mmengine Config) to ``tile`` (default: the
    model config's tile size); returns that size (None: the model does not say, nothing changed). Changes
    ``cfg`` in place."""
    if tile is None:
        tile = model_tile_size((cfg.get('model') or {}).get('mllm') or {})
    if tile is None:
        return None
    changed = []

    def walk(node, path):
        if isinstance(node, dict):
            if node.get('type') in (PACK, f'visionllm.{PACK}') and node.get('tile_size') != tile:
                changed.append(f'{path} ({node.get("tile_size")})')
                node['tile_size'] = tile
            for k, v in node.items():
                walk(v, f'{path}.{k}')
        elif isinstance(node, (list, tuple)):
            for i, v in enumerate(node):
                walk(v, f'{path}[{i}]')

    for key in list(cfg.keys()):
        if key != 'model':
            walk(cfg[key], key)
    if changed:
        from mmengine.logging import print_log
        print_log(f'tiles of {tile} px (the vision tower\'s image_size) in {len(changed)} packing transforms '
                  f'that said otherwise, e.g. {changed[0]}', logger='current')
    return tile
