"""Batch the MLLM tiles and the decoders' images on the model's device."""
from typing import Optional, Sequence

import torch
from mmengine.model import BaseDataPreprocessor
from mmengine.model.utils import stack_batch

from visionllm.registry import MODELS

IMAGENET_MEAN = (123.675, 116.28, 103.53)
IMAGENET_STD = (58.395, 57.12, 57.375)


@MODELS.register_module()
class VisionLLMDataPreprocessor(BaseDataPreprocessor):
    """Normalize and batch ``inputs = {'tiles': [T_i, 3, s, s] uint8, 'image': [3, H_i, W_i] uint8}``.

    Returns ``inputs = {'pixel_values': [sum T_i, 3, s, s], 'num_tiles': [B], 'images': [B, 3, H, W]}``
    with images padded (bottom/right) to a multiple of ``pad_size_divisor``; each data sample gets
    ``batch_input_shape`` and ``pad_shape`` metainfo (mmdet convention). Images stay RGB throughout.
    """

    def __init__(self, tile_mean: Sequence[float] = IMAGENET_MEAN, tile_std: Sequence[float] = IMAGENET_STD,
                 image_mean: Sequence[float] = IMAGENET_MEAN, image_std: Sequence[float] = IMAGENET_STD,
                 pad_size_divisor: int = 32, pad_value: float = 0.0, non_blocking: bool = False):
        super().__init__(non_blocking)
        for name, v in (('tile_mean', tile_mean), ('tile_std', tile_std), ('image_mean', image_mean),
                        ('image_std', image_std)):
            self.register_buffer(name, torch.tensor(v, dtype=torch.float32).view(-1, 1, 1), False)
        self.pad_size_divisor = pad_size_divisor
        self.pad_value = pad_value

    def forward(self, data: dict, training: bool = False) -> dict:
        data = self.cast_data({'inputs': data['inputs'], 'data_samples': data['data_samples']})
        inputs, samples = data['inputs'], data['data_samples']
        tiles = inputs.get('tiles') or []
        num_tiles = torch.tensor([len(t) for t in tiles], dtype=torch.long, device=self.device)
        non_empty = [t for t in tiles if len(t)]
        pixel_values: Optional[torch.Tensor] = None
        if non_empty:
            pixel_values = (torch.cat(non_empty).float() - self.tile_mean) / self.tile_std
        images = None
        if inputs.get('image'):
            imgs = [(im.float() - self.image_mean) / self.image_std for im in inputs['image']]
            images = stack_batch(imgs, self.pad_size_divisor, self.pad_value)
            shape = tuple(images.shape[-2:])
            for s, im in zip(samples, imgs):
                s.set_metainfo(dict(batch_input_shape=shape, pad_shape=tuple(im.shape[-2:])))
        return dict(inputs=dict(pixel_values=pixel_values, num_tiles=num_tiles, images=images),
                    data_samples=samples)
