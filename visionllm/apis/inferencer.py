"""VisionLLMInferencer: chat / detect with a trained generalist, batched, prompted or free."""
import os
import os.path as osp
import warnings
from typing import Dict, List, Optional, Sequence, Union

import numpy as np
import torch
from mmengine.config import Config
from mmengine.dataset import Compose, pseudo_collate
from mmengine.registry import init_default_scope
from mmengine.runner import load_checkpoint

from visionllm.datasets import prompts
from visionllm.registry import MODELS, VISUALIZERS
from visionllm.utils.errors import PromptError

IMG_EXTS = ('.png', '.jpg', '.jpeg', '.bmp', '.tif', '.tiff', '.webp')
ImageInput = Union[str, np.ndarray]


def parse_texts(texts: Union[str, Sequence[str], None]) -> List[str]:
    """'cat . dog .' or ['cat', 'dog'] -> ['cat', 'dog'] (duplicates dropped with a warning)."""
    if texts is None:
        raise PromptError('no class names given; pass e.g. texts="red circle . blue square"')
    names = [t.strip() for t in (texts.split('.') if isinstance(texts, str) else texts)]
    names = [n for n in names if n]
    if not names:
        raise PromptError('empty class list; give at least one name, e.g. texts="red circle . blue square"')
    bad = [n for n in names if any(c in n for c in ',:;[]\n')]
    if bad:
        raise PromptError(f'class names may not contain , : ; [ ] or newlines: {bad}')
    uniq = list(dict.fromkeys(names))
    if len(uniq) < len(names):
        warnings.warn(f'duplicate class names dropped: {len(names) - len(uniq)}')
    return uniq


def list_images(inputs: Union[ImageInput, Sequence[ImageInput]]) -> List[ImageInput]:
    """A path, a directory (its images, sorted), an array, or a list of those."""
    if isinstance(inputs, (str, os.PathLike)):
        inputs = str(inputs)
        if osp.isdir(inputs):
            files = sorted(f for f in os.listdir(inputs) if f.lower().endswith(IMG_EXTS))
            if not files:
                raise PromptError(f'{inputs}: no images ({", ".join(IMG_EXTS)}) in this directory')
            return [osp.join(inputs, f) for f in files]
        if not osp.isfile(inputs):
            raise PromptError(f'{inputs}: no such image file or directory')
        return [inputs]
    if isinstance(inputs, np.ndarray):
        return [inputs]
    return [x for i in inputs for x in list_images(i)]


class VisionLLMInferencer:
    """Run a config + checkpoint on images.

    >>> inf = VisionLLMInferencer('configs/visionllm/<cfg>.py', 'work_dirs/<cfg>/iter_3000.pth')
    >>> out = inf('image.png', texts='red circle . blue square', pred_score_thr=0.3)
    >>> out['predictions'][0]['label_names'], inf.chat('image.png', 'How many red circles are there?')

    Args:
        config: config path or Config; its ``infer_pipeline`` prepares images.
        weights: checkpoint path (None keeps random init, for smoke tests).
        max_classes_per_prompt: longer class lists are split over several prompts and merged.
    """

    def __init__(self, config: Union[str, Config], weights: Optional[str] = None, device: str = 'cpu',
                 max_classes_per_prompt: int = 30):
        cfg = Config.fromfile(config) if isinstance(config, str) else config
        init_default_scope(cfg.get('default_scope', 'visionllm'))
        self.cfg = cfg
        self.model = MODELS.build(cfg.model)
        if weights:
            if not osp.isfile(weights):
                raise PromptError(f'checkpoint {weights!r} not found')
            load_checkpoint(self.model, weights, map_location='cpu', revise_keys=[(r'^module\.', '')])
        else:
            self.model.init_weights()
        self.model.to(device).eval()
        if 'infer_pipeline' not in cfg:
            raise PromptError('the config defines no `infer_pipeline` (image loading + packing for inference)')
        self.pipeline = Compose(cfg.infer_pipeline)
        self.visualizer = VISUALIZERS.build(dict(cfg.visualizer, name=f'infer_{id(self)}'))
        self.max_classes_per_prompt = max_classes_per_prompt

    @classmethod
    def from_model(cls, model, cfg: Config, max_classes_per_prompt: int = 30) -> 'VisionLLMInferencer':
        """Wrap an already built (e.g. training) model; nothing is copied or reloaded."""
        self = cls.__new__(cls)
        self.cfg, self.model = cfg, model
        self.pipeline = Compose(cfg.infer_pipeline)
        self.visualizer = VISUALIZERS.build(dict(cfg.visualizer, name=f'infer_{id(self)}'))
        self.max_classes_per_prompt = max_classes_per_prompt
        return self

    def _prepare(self, image: ImageInput, messages: list, **meta) -> dict:
        if isinstance(image, np.ndarray):
            results = dict(img=image, img_path='array.png', img_shape=image.shape[:2], ori_shape=image.shape[:2])
            results = Compose(self.pipeline.transforms[1:])(results)  # skip the file loader
        else:
            results = self.pipeline(dict(img_path=image))
        results['data_samples'].set_metainfo(dict(messages=messages, **meta))
        return results

    @torch.no_grad()
    def _run(self, items: List[dict]) -> list:
        return self.model.test_step(pseudo_collate(items))

    def chat(self, image: ImageInput, question: str, max_new_tokens: Optional[int] = None) -> str:
        """Answer a question about an image (KV-cache generation)."""
        if max_new_tokens:
            self.model.test_cfg['max_new_tokens'] = max_new_tokens
        q = question if '<image>' in question else '<image>\n' + question
        out = self._run([self._prepare(list_images(image)[0], [dict(role='user', content=q)], task='chat')])
        return out[0].pred_text

    def _pack_only(self, messages: list, **meta) -> dict:
        """Inputs for a prompt without an image (generation): the config's packing transform only."""
        pack = self.pipeline.transforms[-1]
        results = pack.transform(dict(img_path='', img_id=None))
        results['data_samples'].set_metainfo(dict(messages=messages, **meta))
        return results

    def generate(self, prompts_: Union[str, Sequence[str]], free: bool = False, batch_size: int = 4,
                 **sampling) -> List[np.ndarray]:
        """Text -> images (RGB uint8 [S, S, 3] each). ``sampling``: ``num_inference_steps``,
        ``guidance_scale``, ``scheduler``, ``seed`` (override the decoder's test_cfg for this call)."""
        texts = [prompts_] if isinstance(prompts_, str) else list(prompts_)
        for t in texts:
            if not t or not t.strip():
                raise PromptError('empty generation prompt')
        items = []
        for t in texts:
            conv = [dict(role='user', content=prompts.GEN_PROMPT.format(text=t.strip().rstrip('.'))),
                    dict(role='assistant', content=prompts.GEN_ANSWER)]
            items.append(self._pack_only(conv[:1] if free else conv, task='gen', text=t))
        return self._images(items, batch_size, sampling, 'gen')

    def edit(self, image: Optional[ImageInput], instruction: str, free: bool = False, **sampling) -> np.ndarray:
        """Edit one image following ``instruction``; returns RGB uint8 [S, S, 3]."""
        if image is None:
            raise PromptError('an edit request needs an image')
        if not instruction or not instruction.strip():
            raise PromptError('empty edit instruction')
        conv = [dict(role='user', content='<image>\n' + prompts.EDIT_PROMPT.format(
            instruction=instruction.strip().rstrip('.'))), dict(role='assistant', content=prompts.EDIT_ANSWER)]
        item = self._prepare(list_images(image)[0], conv[:1] if free else conv, task='edit', instruction=instruction)
        return self._images([item], 1, sampling, 'edit')[0]

    def segment(self, inputs: Union[ImageInput, Sequence[ImageInput]], texts, batch_size: int = 1,
                out_dir: Optional[str] = None) -> List[dict]:
        """Semantic segmentation over the prompted class names: per image ``{'label_map': [H, W] int
        (index into 'class_names'), 'class_names': [...]}``; with ``out_dir`` also overlay pictures."""
        names = parse_texts(texts)
        if len(names) > self.max_classes_per_prompt:
            raise PromptError(f'{len(names)} classes; at most {self.max_classes_per_prompt} per segmentation prompt')
        conv = [dict(role='user', content='<image>\n' + prompts.SEG_PROMPT.format(classes=prompts.join_names(names))),
                dict(role='assistant', content=prompts.grouped_answer(names, '[SEG]'))]
        return self._dense(inputs, conv, dict(task='semseg', class_names=names), batch_size, out_dir,
                           lambda s: dict(label_map=s.pred_sem_seg.data[0].cpu().numpy(), class_names=names))

    def pose(self, inputs: Union[ImageInput, Sequence[ImageInput]], object_name: str, keypoints,
             batch_size: int = 1, pred_score_thr: float = 0.3, out_dir: Optional[str] = None,
             skeleton: Sequence[Sequence[str]] = ()) -> List[dict]:
        """Detect ``object_name`` and locate the named ``keypoints`` of each instance: per image
        ``{'bboxes', 'scores', 'keypoints' [N, K, 2], 'keypoint_scores' [N, K], 'keypoint_names'}``."""
        kpts = parse_texts(keypoints)
        obj = parse_texts([object_name])[0]
        answer = prompts.DET_ANSWER_LEAD + f'{obj}[DET], ' + ', '.join(f'{k}[POSE]' for k in kpts) + '.'
        conv = [dict(role='user', content='<image>\n' + prompts.POSE_PROMPT.format(
            keypoints=prompts.join_names(kpts), classes=obj)), dict(role='assistant', content=answer)]

        def result(s):
            inst = s.pred_instances
            keep = (inst.scores >= pred_score_thr).nonzero().flatten()
            inst = inst[keep] if 'keypoints' in inst else inst[keep[:0]]
            return dict(bboxes=inst.bboxes.tolist(), scores=inst.scores.tolist(), keypoint_names=kpts,
                        keypoints=inst.keypoints.tolist() if 'keypoints' in inst else [],
                        keypoint_scores=inst.keypoint_scores.tolist() if 'keypoint_scores' in inst else [])
        return self._dense(inputs, conv, dict(task='pose', class_names=[obj], keypoint_names=kpts,
                                              skeleton=[tuple(p) for p in skeleton]),
                           batch_size, out_dir, result, pred_score_thr)

    def _dense(self, inputs, conv, meta: dict, batch_size: int, out_dir: Optional[str], result,
               pred_score_thr: float = 0.3) -> List[dict]:
        images = list_images(inputs)
        out = []
        for i in range(0, len(images), batch_size):
            chunk = images[i:i + batch_size]
            for k, s in enumerate(self._run([self._prepare(img, conv, **meta) for img in chunk])):
                out.append(result(s))
                if out_dir:
                    img = chunk[k]
                    name = osp.splitext(osp.basename(img))[0] if isinstance(img, str) else f'array_{i + k}'
                    self.visualizer.add_datasample(name, _as_rgb(img), s, pred_score_thr=pred_score_thr,
                                                   out_file=osp.join(out_dir, 'vis', name + '.png'))
        return out

    def _images(self, items: list, batch_size: int, sampling: dict, family: str) -> List[np.ndarray]:
        decoder = self.model.decoders[family] if family in self.model.decoders else None
        if decoder is None:
            raise PromptError(f'this model has no `{family}` decoder')
        saved = dict(decoder.test_cfg)
        decoder.test_cfg.update({k: v for k, v in sampling.items() if v is not None})
        try:
            out = []
            for i in range(0, len(items), batch_size):
                for s in self._run(items[i:i + batch_size]):
                    if 'pred_image' not in s:
                        raise PromptError(f'the model answered without a {family} route: {s.get("pred_text", "")!r}')
                    out.append(s.pred_image.cpu().numpy().transpose(1, 2, 0))
            return out
        finally:
            decoder.test_cfg.clear()
            decoder.test_cfg.update(saved)

    def __call__(self, inputs: Union[ImageInput, Sequence[ImageInput]], texts=None, free: bool = False,
                 batch_size: int = 1, pred_score_thr: float = 0.3, out_dir: Optional[str] = None,
                 return_vis: bool = False, progress: bool = False) -> Dict[str, list]:
        """Open-vocabulary detection (+ masks) of ``texts`` in every image.

        Returns ``{'predictions': [dict per image], 'visualization': [RGB arrays] (if return_vis)}``;
        with ``out_dir`` also writes ``vis/<name>.png`` and ``preds/<name>.json``.
        """
        images = list_images(inputs)
        names = parse_texts(texts)
        chunks = [names[i:i + self.max_classes_per_prompt] for i in range(0, len(names), self.max_classes_per_prompt)]
        jobs = [(k, c) for k in range(len(images)) for c in chunks]
        per_image: List[list] = [[] for _ in images]
        bar = _progress(len(jobs), progress)
        for start in range(0, len(jobs), batch_size):
            batch = jobs[start:start + batch_size]
            items = []
            for k, chunk in batch:
                conv = prompts.det_conversation(chunk)
                items.append(self._prepare(images[k], conv[:1] if free else conv, task='det', class_names=chunk,
                                           answer_mode='free' if free else 'prompted',
                                           gt_groups=[(n, '[DET]') for n in chunk]))
            for (k, _), s in zip(batch, self._run(items)):
                per_image[k].append(s)
            bar(len(batch))
        preds, vis = [], []
        for k, samples in enumerate(per_image):
            pred, sample = _merge(samples, pred_score_thr)
            preds.append(pred)
            if out_dir or return_vis:
                img = _as_rgb(images[k])
                name = osp.splitext(osp.basename(images[k]))[0] if isinstance(images[k], str) else f'array_{k}'
                out_file = osp.join(out_dir, 'vis', name + '.png') if out_dir else None
                self.visualizer.add_datasample(name, img, sample, pred_score_thr=pred_score_thr, out_file=out_file)
                if return_vis:
                    vis.append(self.visualizer.get_image())
                if out_dir:
                    os.makedirs(osp.join(out_dir, 'preds'), exist_ok=True)
                    import json
                    with open(osp.join(out_dir, 'preds', name + '.json'), 'w') as f:
                        json.dump(pred, f)
        return dict(predictions=preds, visualization=vis)


def _progress(total: int, enabled: bool):
    if not enabled:
        return lambda n: None
    from tqdm import tqdm
    bar = tqdm(total=total, unit='prompt')
    return bar.update


def _as_rgb(image: ImageInput) -> np.ndarray:
    from visionllm.datasets.transforms.loading import read_rgb
    return image if isinstance(image, np.ndarray) else read_rgb(image)


def _merge(samples: list, thr: float):
    """Concatenate the chunks of one image; returns (JSON-able dict, a drawable sample)."""
    from mmengine.structures import InstanceData
    from pycocotools import mask as mask_utils
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
        rles = [mask_utils.encode(np.asfortranarray(m.cpu().numpy().astype(np.uint8))) for m in inst.masks]
        pred['masks'] = [dict(size=r['size'], counts=r['counts'].decode()) for r in rles]
    if free:
        pred['text'] = sample.pred_text
    return pred, sample

