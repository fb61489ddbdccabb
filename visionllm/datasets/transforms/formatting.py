"""Pack a pipeline's results into model inputs (MLLM tiles + decoder image) and a data sample."""
from typing import Optional, Sequence

import numpy as np
import torch
from mmcv.transforms import BaseTransform
from mmengine.structures import InstanceData, PixelData

from visionllm.registry import TRANSFORMS
from visionllm.structures import VisionLLMDataSample
from visionllm.structures.tasks import task_meta_keys, task_specs

from .regions import regions_of
from .tiling import tile_image

COMMON_META_KEYS = ('img_path', 'img_id', 'ori_shape', 'img_shape', 'scale_factor', 'task', 'messages', 'sample_id',
                    'answer_mode', 'phrasing')  # every task's; each task adds its own (TaskSpec.meta_keys)


@TRANSFORMS.register_module()
class PackVisionLLMInputs(BaseTransform):
    """Build ``inputs = {'tiles': uint8 [T, 3, s, s], 'image': uint8 [3, H, W]}`` and the data sample.

    Args:
        tile_size: the MLLM's vision input size.
        min_tiles / max_tiles / use_thumbnail: InternVL dynamic tiling.
        meta_keys: results keys copied into the sample's metainfo when present (default: the common ones
            and every registered task's ``meta_keys``).

    ``encoder`` (set on training pipelines by ``TokenizeInWorkersHook``): a callable ``(messages, num_tiles,
    source) -> (input_ids, labels)``, the model's chat template and query slots; the sample then carries
    ``token_ids`` / ``token_labels`` and the model does not tokenise it again.

    Ground truth: boxes / masks / keypoints as ``gt_instances``, ``gt_img`` as ``gt_image`` and every
    sample's task's ``gt_pixel_fields`` (``TaskSpec``; e.g. semseg: ``gt_seg_map`` -> ``gt_sem_seg``) as
    ``PixelData``. Visual prompts (``region_masks`` [R, h, w] at the resized image, or ``region_prompts`` in
    original coordinates, rasterized here) become ``region_masks`` (bool tensor) and ``region_prompts`` metainfo.
    """

    def __init__(self, tile_size: int, min_tiles: int = 1, max_tiles: int = 1, use_thumbnail: bool = True,
                 meta_keys: Optional[Sequence[str]] = None):
        self.tile_size, self.min_tiles, self.max_tiles = tile_size, min_tiles, max_tiles
        self.use_thumbnail = use_thumbnail
        self.meta_keys = tuple(meta_keys) if meta_keys is not None else \
            tuple(dict.fromkeys(COMMON_META_KEYS + task_meta_keys()))
        self.specs = task_specs()
        self.encoder = None

    def transform(self, results: dict) -> dict:
        img = results.get('img')
        if img is not None:
            tiles = tile_image(img, self.tile_size, self.min_tiles, self.max_tiles, self.use_thumbnail)
            inputs = dict(tiles=torch.from_numpy(np.ascontiguousarray(tiles.transpose(0, 3, 1, 2))),
                          image=torch.from_numpy(np.ascontiguousarray(img.transpose(2, 0, 1))))
        else:  # text-only prompt (e.g. generation): no tiles, a blank decoder image
            tiles = np.zeros((0, self.tile_size, self.tile_size, 3), np.uint8)
            inputs = dict(tiles=torch.zeros(0, 3, self.tile_size, self.tile_size, dtype=torch.uint8),
                          image=torch.zeros(3, self.tile_size, self.tile_size, dtype=torch.uint8))
            results.setdefault('img_shape', (self.tile_size, self.tile_size))
            results.setdefault('ori_shape', (self.tile_size, self.tile_size))
        sample = VisionLLMDataSample()
        meta = {k: results[k] for k in self.meta_keys if k in results}
        meta['num_tiles'] = len(tiles)
        if self.encoder is not None and results.get('messages'):
            meta['token_ids'], meta['token_labels'] = self.encoder(results['messages'], len(tiles),
                                                                   results.get('img_path', '?'))
        sample.set_metainfo(meta)
        if 'gt_bboxes' in results:
            gt = InstanceData()
            boxes = results['gt_bboxes']
            gt.bboxes = boxes.tensor if hasattr(boxes, 'tensor') else torch.as_tensor(boxes, dtype=torch.float32)
            gt.labels = torch.as_tensor(results['gt_bboxes_labels'], dtype=torch.long)
            if 'gt_masks' in results:
                gt.masks = torch.from_numpy(results['gt_masks'].to_ndarray().astype(bool))
            if 'gt_keypoints' in results:
                gt.keypoints = torch.as_tensor(results['gt_keypoints'], dtype=torch.float32)
                gt.keypoints_visible = torch.as_tensor(results['gt_keypoints_visible'], dtype=torch.float32)
            sample.gt_instances = gt
        if 'region_masks' in results or 'region_prompts' in results:  # visual prompts: bool [R, h, w]
            sample.region_masks = torch.from_numpy(np.ascontiguousarray(regions_of(results)))
            sample.set_metainfo(dict(region_prompts=results['region_prompts']))
        if 'gt_img' in results:
            sample.gt_image = torch.from_numpy(np.ascontiguousarray(results['gt_img'].transpose(2, 0, 1)))
        spec = self.specs.get(results.get('task')) or task_specs().get(results.get('task'))
        for key, (field, dtype) in (spec.gt_pixel_fields if spec is not None else {}).items():
            if key in results:
                sample.set_field(PixelData(data=torch.from_numpy(np.asarray(results[key])[None].astype(dtype))), field)
        return dict(inputs=inputs, data_samples=sample)
