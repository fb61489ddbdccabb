"""Export a trained generalist to library-native directories, and load it back.

Layout::

    out_dir/mllm/                  transformers InternVL checkpoint + tokenizer (AutoModel-loadable)
    out_dir/{family}/unet|vae      diffusers components of generation / editing decoders
    out_dir/superlink.pth          query banks
    out_dir/region_encoder.pth     the visual-prompt encoder, when the model has one
    out_dir/decoders/{family}.pth  every decoder's state dict
    out_dir/config.py              the config, with ``model.mllm.pretrained`` set to ``out_dir/mllm``
"""
import os
import os.path as osp

import torch
from mmengine.config import Config

from visionllm.utils.errors import ConfigError


def export_generalist(model, cfg: Config, out_dir: str) -> str:
    """Write ``model`` (a VisionLLM) and its config to ``out_dir``; returns the config path."""
    os.makedirs(osp.join(out_dir, 'decoders'), exist_ok=True)
    mllm_dir = osp.abspath(osp.join(out_dir, 'mllm'))
    packs = [t for t in cfg.get('infer_pipeline', []) if str(t.get('type', '')).endswith('PackVisionLLMInputs')]
    model.mllm.save_pretrained(mllm_dir, max_tiles=packs[0].get('max_tiles', 1) if packs else 12,
                               answer_space=model.template.answer_space)
    torch.save(model.superlink.state_dict(), osp.join(out_dir, 'superlink.pth'))
    if model.region_encoder is not None:
        torch.save(model.region_encoder.state_dict(), osp.join(out_dir, 'region_encoder.pth'))
    for family, dec in model.decoders.items():
        torch.save(dec.state_dict(), osp.join(out_dir, 'decoders', f'{family}.pth'))
        if hasattr(dec, 'save_pretrained'):
            dec.save_pretrained(osp.join(out_dir, family))
    cfg = Config(cfg.to_dict())
    # LoRA adapters are merged into the exported weights (InternVLMLLM.save_pretrained)
    cfg.model.mllm.update(pretrained=mllm_dir, tokenizer=dict(path=mllm_dir), vision_config=None, text_config=None,
                          lora=None)
    cfg.load_from = None
    path = osp.join(out_dir, 'config.py')
    cfg.dump(path)
    return path


def load_exported(out_dir: str):
    """Build the generalist from an exported directory (MLLM from its transformers checkpoint)."""
    from mmengine.registry import init_default_scope

    from visionllm.registry import MODELS
    cfg = Config.fromfile(osp.join(out_dir, 'config.py'))
    init_default_scope('visionllm')
    model = MODELS.build(cfg.model)
    model.superlink.load_state_dict(torch.load(osp.join(out_dir, 'superlink.pth'), map_location='cpu'))
    if model.region_encoder is not None:
        path = osp.join(out_dir, 'region_encoder.pth')
        if not osp.isfile(path):
            raise ConfigError(f'{out_dir}: the config has a region_encoder but region_encoder.pth is missing '
                              '(exported before visual prompts were exported); export the checkpoint again')
        model.region_encoder.load_state_dict(torch.load(path, map_location='cpu'))
    for family, dec in model.decoders.items():
        dec.load_state_dict(torch.load(osp.join(out_dir, 'decoders', f'{family}.pth'), map_location='cpu'))
    return model.eval()
