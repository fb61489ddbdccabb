"""Interactive segmentation's choice: the candidate the prompt lies on, whatever the image's scale."""
import torch
from mmengine.structures import InstanceData

from visionllm.models.region_selection import rescore_by_region
from visionllm.structures import VisionLLMDataSample


def _sample(kind_prompt, region):
    # the file is 200 x 100 (ori_shape), the model saw it at 100 x 50 (img_shape): regions live there
    s = VisionLLMDataSample(metainfo=dict(ori_shape=(100, 200), img_shape=(50, 100), region_prompts=[kind_prompt]))
    s.region_masks = region[None]
    masks = torch.zeros(2, 100, 200, dtype=torch.bool)
    masks[0, 10:40, 10:60] = True    # candidate 0: left object, the detector's favourite
    masks[1, 50:90, 120:180] = True  # candidate 1: right object
    s.pred_instances = InstanceData(bboxes=torch.tensor([[10., 10., 60., 40.], [120., 50., 180., 90.]]),
                                    scores=torch.tensor([0.9, 0.5]), labels=torch.tensor([0, 0]), masks=masks)
    return s


def test_a_click_picks_the_candidate_under_it():
    click = torch.zeros(50, 100, dtype=torch.bool)
    click[34:36, 74:76] = True  # (150, 70) in the file: on the right object
    s = _sample(dict(kind='point', point=[150.0, 70.0]), click)
    rescore_by_region(s)
    assert int(s.pred_instances.scores.argmax()) == 1
    assert float(s.pred_instances.scores[0]) < 0.01  # the favourite is nowhere near the click


def test_a_box_picks_the_candidate_it_frames():
    box = torch.zeros(50, 100, dtype=torch.bool)
    box[25:45, 60:90] = True
    s = _sample(dict(kind='box', box=[118.0, 48.0, 182.0, 92.0]), box)
    rescore_by_region(s)
    assert int(s.pred_instances.scores.argmax()) == 1 and float(s.pred_instances.scores[1]) > 0.4
