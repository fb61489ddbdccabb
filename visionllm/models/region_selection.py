"""Interactive segmentation's choice among the detector's candidates: the object the prompt points at."""
import torch
import torch.nn.functional as F
from mmdet.structures.bbox import bbox_overlaps

from visionllm.registry import FUNCTIONS


@FUNCTIONS.register_module()
def rescore_by_region(sample) -> None:
    """Multiply each predicted instance's score by its agreement with its group's region (``labels`` index the
    regions): a box prompt's IoU with the instance's box; for a click, scribble or mask, the share of the region's
    pixels inside the instance's mask (its box without masks). The best-scoring instance of a group is then one
    the prompt lies on, as a user of a click / box tool expects. Regions (``region_masks`` [R, h, w] at the
    resized image) and ``region_prompts`` (boxes in the ``ori_shape`` frame) come from the sample."""
    if 'pred_instances' not in sample or 'region_masks' not in sample or not len(sample.pred_instances):
        return
    inst = sample.pred_instances
    prompts = sample.metainfo.get('region_prompts') or []
    oh, ow = sample.metainfo['ori_shape']
    h, w = sample.metainfo['img_shape']
    regions = sample.region_masks.to(inst.bboxes.device)
    agree = torch.zeros_like(inst.scores)
    for k, region in enumerate(regions):
        mine = (inst.labels == k).nonzero().flatten()
        if not len(mine):
            continue
        kind = prompts[k]['kind'] if k < len(prompts) else 'mask'
        if kind == 'box':
            box = inst.bboxes.new_tensor(prompts[k]['box'])[None]
            agree[mine] = bbox_overlaps(inst.bboxes[mine].float(), box.float())[:, 0].to(agree.dtype)
            continue
        big = F.interpolate(region[None, None].float(), size=(oh, ow), mode='nearest')[0, 0] > 0
        if not big.any():  # a click thinner than a pixel of the original: its resized pixels' centres
            ys, xs = region.nonzero(as_tuple=True)
            big[(ys * oh // h).clamp(max=oh - 1), (xs * ow // w).clamp(max=ow - 1)] = True
        if 'masks' in inst:
            covered = (inst.masks[mine] & big).flatten(1).sum(1)
        else:
            ys, xs = big.nonzero(as_tuple=True)
            b = inst.bboxes[mine]
            covered = ((xs[None] >= b[:, :1]) & (xs[None] <= b[:, 2:3]) & (ys[None] >= b[:, 1:2])
                       & (ys[None] <= b[:, 3:4])).sum(1)
        agree[mine] = (covered.float() / big.sum().clamp_min(1)).to(agree.dtype)
    inst.scores = inst.scores * agree.clamp_min(1e-3)
