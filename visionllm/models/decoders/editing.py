"""Instruction image editing decoder (the ``edit`` family: [EDIT]), InstructPix2Pix style.

The UNet sees the noisy latent concatenated with the source image's latent (8 input channels for 4
latent channels) and is conditioned on the [EDIT] query states through the same mapper as generation.
During training both the instruction and the source image are dropped independently; sampling uses
image and text guidance: e = e(∅,∅) + s_img (e(img,∅) - e(∅,∅)) + s_txt (e(img,txt) - e(img,∅)).
"""
from typing import Dict, Optional

import torch
from torch import Tensor

from visionllm.registry import MODELS
from visionllm.utils.errors import PromptError

from .generation import DiffusionGenerationDecoder, to_unit_range


@MODELS.register_module()
class DiffusionEditDecoder(DiffusionGenerationDecoder):
    """Edit the decoder input image (``decoder_inputs['images']``) following the [EDIT] instruction.

    Args (besides the generation decoder's):
        image_dropout: probability of dropping the source latent in training.
        test_cfg: adds ``image_guidance_scale``.
    """

    concat_source_latent = True

    def __init__(self, *args, image_dropout: float = 0.05, test_cfg: Optional[dict] = None, **kwargs):
        super().__init__(*args, test_cfg=dict(dict(image_guidance_scale=1.5), **(test_cfg or {})), **kwargs)
        self.image_dropout = image_dropout

    def extra_inputs(self, decoder_inputs: Dict[str, Tensor], data_samples, sample_latents: bool) -> Tensor:
        """Latents of the source images [B, 4, s, s] (unnormalised from the decoder inputs)."""
        images = decoder_inputs.get('images')
        if images is None:
            raise PromptError('[EDIT] needs a source image')
        size = (self.image_size, ) * 2
        src = []
        for b, s in enumerate(data_samples):  # each valid (unpadded) region resized on its own: any aspect ratios
            h, w = s.metainfo['img_shape']
            crop = images[b:b + 1, :, :h, :w]
            if (h, w) != size:
                crop = torch.nn.functional.interpolate(crop, size=size, mode='bilinear', align_corners=False)
            src.append(crop[0])
        src = torch.stack(src)
        mean, std = decoder_inputs['image_mean'], decoder_inputs['image_std']
        lat = self.encode(to_unit_range(src * std + mean), sample=False)
        if sample_latents and self.training:
            keep = (torch.rand(len(lat), device=lat.device) >= self.image_dropout).float()
            lat = lat * keep[:, None, None, None]
        return lat

    def _guided_eps(self, latents, t, cond, extra, cfg: dict):
        null = self.null_condition[None].expand_as(cond)
        zero = torch.zeros_like(extra)
        inp = torch.cat([torch.cat([latents, zero], 1), torch.cat([latents, extra], 1), torch.cat([latents, extra], 1)])
        e_none, e_img, e_full = self.unet(inp, t, encoder_hidden_states=torch.cat([null, null, cond])).sample.chunk(3)
        s_img, scale = cfg['image_guidance_scale'], cfg['guidance_scale']
        return e_none + s_img * (e_img - e_none) + scale * (e_full - e_img)
