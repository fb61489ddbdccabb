"""Visual-prompt inference: region captioning, interactive segmentation and detection by example.

Regions are given in the image file's pixel coordinates, as region dicts (``{'kind': 'box', 'box': [x0, y0,
x1, y1]}``, ``{'kind': 'point', 'point': [x, y]}``, ``{'kind': 'scribble', 'points': [[x, y], ...]}``,
``{'kind': 'mask', 'mask': bool [H, W]}``) or the CLI's strings (:func:`parse_regions`).
"""
from typing import List, Optional, Sequence, Union

import cv2
import numpy as np
import torch

from visionllm.datasets import prompts
from visionllm.datasets.transforms.regions import check_region, region_summary
from visionllm.evaluation.region_metrics import answer_names
from visionllm.models.predict_options import PredictOptions
from visionllm.utils.errors import PromptError

from .image_inputs import ImageInput, LoadedImage, rle_at, to_original


def parse_regions(boxes: Sequence[str] = (), points: Sequence[str] = (), scribbles: Sequence[str] = (),
                  masks: Sequence[str] = ()) -> List[dict]:
    """CLI strings -> region dicts, in this order: boxes ``'x0,y0,x1,y1'``, points ``'x,y'``, scribbles
    ``'x,y;x,y;...'``, masks (image files: non-zero pixels are the region)."""
    out = []
    for kind, texts, n in (('box', boxes, 4), ('point', points, 2)):
        for t in texts or ():
            try:
                vals = [float(v) for v in t.split(',')]
            except ValueError:
                vals = []
            if len(vals) != n:
                raise PromptError(f'--{"region" if kind == "box" else "point"} {t!r}: expected {n} comma-separated '
                                  f'numbers ({"x0,y0,x1,y1" if kind == "box" else "x,y"})')
            out.append(dict(kind=kind, box=vals) if kind == 'box' else dict(kind=kind, point=vals))
    for t in scribbles or ():
        try:
            pts = [[float(v) for v in p.split(',')] for p in t.split(';') if p.strip()]
        except ValueError:
            pts = []
        if not pts or any(len(p) != 2 for p in pts):
            raise PromptError(f'--scribble {t!r}: expected x,y points separated by ";" (e.g. 10,12;20,25;30,28)')
        out.append(dict(kind='scribble', points=pts))
    for path in masks or ():
        m = cv2.imread(path, cv2.IMREAD_UNCHANGED)
        if m is None:
            raise PromptError(f'--mask {path!r}: cannot read it as an image')
        out.append(dict(kind='mask', mask=(m if m.ndim == 2 else m[..., :3].max(-1)) > 0))
    return out


def _to_model_image(regions: Sequence[dict], image: LoadedImage) -> List[dict]:
    """Regions in the file's coordinates -> the loaded (possibly downscaled) array's, checked against the file."""
    if not regions:
        raise PromptError('no region given (a box, point, scribble or mask)')
    out = []
    for i, r in enumerate(regions):
        check_region(i, r, image.original_shape)
        s, r = image.scale, dict(r)
        if r['kind'] == 'box':
            r['box'] = (np.asarray(r['box'], np.float64) * s).tolist()
        elif r['kind'] == 'point' and 'point' in r:
            r['point'] = (np.asarray(r['point'], np.float64) * s).tolist()
        elif r['kind'] in ('point', 'scribble'):
            r['points'] = (np.asarray(r['points'], np.float64) * s).tolist()
        elif s != 1.0:
            h, w = image.array.shape[:2]
            r['mask'] = cv2.resize(np.asarray(r['mask'], np.uint8), (w, h), interpolation=cv2.INTER_NEAREST) > 0
        out.append(r)
    return out


class RegionInferenceMixin:
    """The visual-prompt entries of :class:`VisionLLMInferencer` (``TaskSpec.infer`` of the region tasks)."""

    def _check_regions(self, regions: Sequence[dict]) -> None:
        if not regions:
            raise PromptError('no region given (a box, point, scribble or mask)')
        enc = getattr(self.model, 'region_encoder', None)
        if enc is None:
            raise PromptError('this model has no region encoder (model.region_encoder): it cannot take visual '
                              'prompts')
        if len(regions) > enc.max_regions:
            raise PromptError(f'{len(regions)} regions given; this model takes at most {enc.max_regions} per image '
                              f'(region {enc.max_regions + 1} onwards do not fit)')

    def _region_run(self, image: ImageInput, regions: Sequence[dict], conv: list, task: str,
                    options: Optional[PredictOptions] = None, name: Optional[str] = None, **meta):
        self._check_regions(regions)
        loaded = self._load_one(image, name)
        item = self._prepare(loaded, conv, task=task, region_prompts=_to_model_image(regions, loaded), **meta)
        return loaded, self._run([item], options)[0]

    def region_caption(self, image: ImageInput, regions: Sequence[dict], max_new_tokens: Optional[int] = None,
                       out_dir: Optional[str] = None, name: Optional[str] = None) -> dict:
        """Name what is in each region: ``{'text': answer, 'names': [one per region], 'regions': [...]}``.
        ``name``: the stem of its picture in ``out_dir/vis`` (the file's stem by default)."""
        self._check_regions(regions)
        conv = [prompts.region_caption_question(len(regions))]
        options = PredictOptions(max_new_tokens=max_new_tokens)
        loaded, s = self._region_run(image, regions, conv, 'region-caption', options, name, answer_mode='free')
        self._draw(loaded, s, out_dir, 0.0, False, [])
        text = s.get('pred_text', '')
        return dict(image=loaded.source or loaded.name, text=text, names=answer_names(text),
                    regions=[region_summary(r) for r in regions])

    def interactive_segment(self, image: ImageInput, regions: Sequence[dict], out_dir: Optional[str] = None,
                            name: Optional[str] = None) -> dict:
        """The object each region points at: per region its best box, score and mask (COCO RLE), in the file's
        coordinates: ``{'bboxes', 'scores', 'masks', 'label_names': ['region 1', ...], 'regions'}``."""
        self._require_det()
        self._check_regions(regions)
        loaded, s = self._region_run(image, regions, prompts.interactive_seg_conversation(len(regions)),
                                     'interactive-seg', name=name)
        inst = s.pred_instances
        best = []
        for k in range(len(regions)):
            mine = (inst.labels == k).nonzero().flatten()
            if len(mine):
                best.append(int(mine[inst.scores[mine].argmax()]))
        s.pred_instances = inst = _named(inst[best] if best else inst[:0])
        self._draw(loaded, s, out_dir, 0.0, False, [])
        return self._instances_out(inst, loaded, regions)

    def detect_by_example(self, image: ImageInput, regions: Sequence[dict], pred_score_thr: float = 0.3,
                          out_dir: Optional[str] = None, name: Optional[str] = None) -> dict:
        """Every object like each region's (score >= ``pred_score_thr``) and their count per region:
        ``{'bboxes', 'scores', 'masks', 'label_names', 'counts': [n per region], 'text', 'regions'}``."""
        self._require_det()
        self._check_regions(regions)
        loaded, s = self._region_run(image, regions, prompts.detect_by_example_conversation(len(regions)),
                                     'detect-by-example', name=name)
        inst = s.pred_instances
        s.pred_instances = inst = _named(inst[inst.scores >= pred_score_thr])
        self._draw(loaded, s, out_dir, pred_score_thr, False, [])
        out = self._instances_out(inst, loaded, regions)
        out['counts'] = [int((inst.labels == k).sum()) for k in range(len(regions))]
        out['text'] = '; '.join(f'region {k + 1}: {n} object{"s" * (n != 1)}' for k, n in enumerate(out['counts']))
        return out

    def _require_det(self) -> None:
        if 'det' not in self.model.decoders:
            raise PromptError('this model has no `det` decoder (interactive segmentation and detection by example '
                              'run on it)')

    @staticmethod
    def _instances_out(inst, loaded: LoadedImage, regions: Sequence[dict]) -> dict:
        pred = dict(label_names=list(inst.label_names), scores=inst.scores.tolist(), bboxes=inst.bboxes.tolist(),
                    labels=inst.labels.tolist())
        if 'masks' in inst:
            pred['masks'] = [rle_at(m.cpu().numpy(), loaded.original_shape) for m in inst.masks]
        return dict(to_original(pred, loaded), regions=[region_summary(r) for r in regions])


def _named(inst):
    """Instances labelled ``region k`` (their group's region) instead of the ``<region>`` token."""
    inst.label_names = [f'region {int(k) + 1}' for k in inst.labels]
    return inst


def regions_from_arrays(masks: Union[np.ndarray, torch.Tensor]) -> List[dict]:
    """Mask regions from a bool array [R, H, W] (or one [H, W])."""
    m = np.asarray(masks.cpu() if isinstance(masks, torch.Tensor) else masks).astype(bool)
    return [dict(kind='mask', mask=x) for x in (m[None] if m.ndim == 2 else m)]
