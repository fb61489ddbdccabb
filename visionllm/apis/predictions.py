"""Model outputs -> what an inference call returns: chunks of one image merged, JSON-ready values, a progress bar."""
from typing import Callable, Tuple

import numpy as np
import torch

from .image_inputs import LoadedImage, rle_at, to_original


def progress_bar(total: int, enabled: bool) -> Callable[[int], object]:
    """``update(n)`` of a tqdm bar over ``total`` files, or a no-op when not ``enabled``."""
    if not enabled:
        return lambda n: None
    from tqdm import tqdm
    return tqdm(total=total, unit='file').update


def merge_chunks(samples: list, thr: float, image: LoadedImage) -> Tuple[dict, object]:
    """Concatenate the class-list chunks of one image (detections scoring >= ``thr``); returns (JSON-able dict in
    the file's coordinates, a drawable sample in the model image's coordinates)."""
    from mmengine.structures import InstanceData
    insts, names, texts = [], [], []
    free = any('pred_text' in s for s in samples)
    for s in samples:
        texts.append(s.get('pred_text', ''))
        if 'pred_instances' in s:
            inst = s.pred_instances
            inst = inst[inst.scores >= thr]
            names += list(inst.label_names) if len(inst) else []
            insts.append(inst)
    sample = samples[0]
    if insts:
        inst = InstanceData.cat(insts) if len(insts) > 1 else insts[0]
        inst.label_names = names
        sample.pred_instances = inst
    else:
        sample.pred_instances = InstanceData(bboxes=torch.zeros(0, 4), scores=torch.zeros(0),
                                             labels=torch.zeros(0, dtype=torch.long), label_names=[])
        inst = sample.pred_instances
    if free:
        sample.pred_text = ' '.join(t for t in texts if t)
    pred = dict(label_names=list(inst.label_names), scores=inst.scores.tolist(), bboxes=inst.bboxes.tolist())
    if 'masks' in inst:
        pred['masks'] = [rle_at(m.cpu().numpy(), image.original_shape) for m in inst.masks]
    if free:
        pred['text'] = sample.pred_text
    return to_original(pred, image), sample


def jsonable(value):
    """Tensors, arrays and mmengine data elements (PixelData / InstanceData) -> lists and dicts."""
    if hasattr(value, 'to_dict') and hasattr(value, 'keys'):
        return {k: jsonable(v) for k, v in value.to_dict().items()}
    if isinstance(value, torch.Tensor):
        return value.detach().float().cpu().tolist() if value.is_floating_point() else value.cpu().tolist()
    if isinstance(value, np.ndarray):
        return value.tolist()
    return value


def as_lists(result: dict) -> dict:
    """Arrays in a result dict -> nested lists."""
    return {k: v.tolist() if isinstance(v, np.ndarray) else v for k, v in result.items()}
