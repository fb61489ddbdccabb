"""VisionLLMDataSample: one sample's conversation, targets and predictions.

Field names follow mmdet / mmseg / mmpose (``gt_instances``, ``pred_instances``, ``gt_sem_seg``,
``pred_sem_seg``) so their metrics and visualizers apply unchanged. Metainfo keys used here:

- ``task``: ``'caption' | 'vqa' | 'chat' | 'det' | 'grounding' | 'semseg' | 'pose' | 'gen' | 'edit'`` and the
  visual-prompt tasks ``'region-caption' | 'interactive-seg' | 'detect-by-example'``
- ``messages``: list of ``{'role': 'user'|'assistant', 'content': str}``; ``<image>`` marks where
  the image tokens go, routing tokens (``[DET]`` ...) mark where query banks go.
- ``class_names``: the group names in answer order; ``gt_instances.labels`` index into it.
- ``pred_pose``: the pose decoder's instances (boxes, scores and ``keypoints`` [N, K, 2],
  ``keypoint_scores`` [N, K]); the detection decoder's ``pred_instances`` stay as it wrote them.
- ``region_masks``: visual prompts, bool [R, h, w] at the resized image (``img_shape``); ``region_prompts``:
  their descriptions (kind, box / clicks / scribble points in the ``ori_shape`` frame; in training, after any flip).
- ``img_path``, ``img_id``, ``ori_shape``, ``img_shape``, ``scale_factor``, ``num_tiles``.
"""
from mmengine.structures import BaseDataElement, InstanceData, PixelData


class VisionLLMDataSample(BaseDataElement):
    """Data sample of the generalist (see module docstring for fields).

    Metainfo keys are attributes too: ``sample.task``, ``sample.messages``, ``sample.class_names``.
    """

    def _prop(name, dtype):  # noqa: N805 - property factory used at class creation only

        def getter(self):
            return getattr(self, f'_{name}')

        def setter(self, value):
            self.set_field(value, f'_{name}', dtype=dtype)

        def deleter(self):
            delattr(self, f'_{name}')

        return property(getter, setter, deleter)

    gt_instances = _prop('gt_instances', InstanceData)
    pred_instances = _prop('pred_instances', InstanceData)
    pred_pose = _prop('pred_pose', InstanceData)
    gt_sem_seg = _prop('gt_sem_seg', PixelData)
    pred_sem_seg = _prop('pred_sem_seg', PixelData)
    del _prop
