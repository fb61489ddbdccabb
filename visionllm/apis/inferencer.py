"""VisionLLMInferencer: chat / detect / segment / pose / generate / edit with a trained generalist, batched,
prompted or free; folders are processed file by file with each file's outputs written as soon as it is done.

Every option of a request is an argument of its call (:class:`PredictOptions` to the model): nothing is written
into the model, so one inferencer serves concurrent requests (the web demo's tabs) as it serves them one by one."""
import json
import os
import os.path as osp
import threading
from typing import Dict, List, Optional, Sequence, Union

import numpy as np
import torch
from mmengine.config import Config
from mmengine.dataset import Compose, pseudo_collate
from mmengine.infer import BaseInferencer
from mmengine.logging import print_log
from mmengine.registry import init_default_scope

from visionllm.datasets import prompts
from visionllm.models.predict_options import PredictOptions
from visionllm.registry import INFERENCERS, MODELS, VISUALIZERS
from visionllm.utils.errors import BadSampleError, PromptError

from .chat_inference import ChatMixin
from .checkpoints import load_weights
from .dense_inference import DenseInferenceMixin
from .image_generation import ImageGenerationMixin
from .image_inputs import ImageInput, LoadedImage, list_images, load_image, max_aspect_of, output_names
from .predictions import merge_chunks, progress_bar
from .region_inference import RegionInferenceMixin
from .text_inputs import conversation, parse_texts
from .tile_size import sync_tile_size

__all__ = ['VisionLLMInferencer', 'conversation', 'parse_texts']

DEFAULT_MAX_IMAGE_SIZE = 1333  # longer side; larger images are downscaled for the model (mmdet's test scale)


@INFERENCERS.register_module()
class VisionLLMInferencer(ChatMixin, DenseInferenceMixin, ImageGenerationMixin, RegionInferenceMixin,
                          BaseInferencer):
    """Run a config + checkpoint on images (an mmengine ``BaseInferencer``; like mmdet's ``DetInferencer`` its
    ``__call__`` takes the task's own arguments).

    >>> inf = VisionLLMInferencer('configs/visionllm/<cfg>.py', 'work_dirs/<cfg>/iter_3000.pth')
    >>> out = inf('image.png', texts='red circle . blue square', pred_score_thr=0.3)
    >>> out['predictions'][0]['label_names'], inf.chat('image.png', 'How many red circles are there?')

    Inputs are loaded one by one (EXIF orientation applied); images whose longer side exceeds
    ``max_image_size`` are downscaled for the model, and boxes, keypoints, masks (RLE) and label maps
    are mapped back to the file's coordinates. With ``skip_errors=True`` an unreadable file is skipped
    with one logged line and listed in the result's ``skipped``; otherwise its error is raised.

    Args:
        config: config path or Config; its ``infer_pipeline`` prepares images (its first transform,
            the file loader, is replaced by the inferencer's own loading).
        weights: checkpoint path (None keeps random init, for smoke tests).
        max_classes_per_prompt: longer class lists are split over several prompts and merged.
        max_image_size: longer-side limit of the image the model sees (None: no limit).
    """

    def __init__(self, config: Union[str, Config], weights: Optional[str] = None, device: str = 'cpu',
                 max_classes_per_prompt: int = 30, max_image_size: Optional[int] = DEFAULT_MAX_IMAGE_SIZE):
        self.max_classes_per_prompt, self.max_image_size = max_classes_per_prompt, max_image_size
        cfg = Config.fromfile(config) if isinstance(config, str) else config
        scope = cfg.get('default_scope', 'visionllm')
        init_default_scope(scope)
        # mmengine's BaseInferencer: _init_model, _init_pipeline, _init_collate, _init_visualizer below
        super().__init__(cfg, weights=weights, device=device, scope=scope, show_progress=False)
        self.after_loading = Compose(self.pipeline.transforms[1:])  # the inferencer loads images itself

    @classmethod
    def from_model(cls, model, cfg: Config, max_classes_per_prompt: int = 30,
                   max_image_size: Optional[int] = DEFAULT_MAX_IMAGE_SIZE) -> 'VisionLLMInferencer':
        """Wrap an already built (e.g. training) model; nothing is copied or reloaded."""
        self = cls.__new__(cls)
        self.max_classes_per_prompt, self.max_image_size = max_classes_per_prompt, max_image_size
        self.cfg, self.model, self.scope, self.show_progress = cfg, model, 'visionllm', False
        self.pipeline = self._init_pipeline(cfg)
        self.collate_fn = self._init_collate(cfg)
        self.visualizer = self._init_visualizer(cfg)
        self.after_loading = Compose(self.pipeline.transforms[1:])
        return self

    # ---- mmengine BaseInferencer parts ----------------------------------------------------------------
    def _init_model(self, cfg: Config, weights: Optional[str], device: str = 'cpu'):
        model = MODELS.build(cfg.model)
        if weights:
            if not osp.exists(weights):
                raise PromptError(f'checkpoint {weights!r} not found')
            load_weights(model, weights)  # a .pth file or a DeepSpeed checkpoint directory
        else:
            model.init_weights()
        return model.to(device).eval()

    def _init_pipeline(self, cfg: Config) -> Compose:
        """The config's ``infer_pipeline`` at the model's tile size."""
        if 'infer_pipeline' not in cfg:
            raise PromptError('the config defines no `infer_pipeline` (image loading + packing for inference)')
        sync_tile_size(cfg, getattr(getattr(self.model, 'mllm', None), 'tile_size', None))
        self.max_aspect = max_aspect_of(cfg.infer_pipeline)  # more elongated images are skipped, named
        return Compose(cfg.infer_pipeline)

    def _init_collate(self, cfg: Config):
        return pseudo_collate

    def _init_visualizer(self, cfg: Config):
        # no storage backends: the inferencer writes its pictures itself. mmengine's visualizer draws on one
        # canvas: a picture is drawn and read back under a lock, one at a time
        self._draw_lock = threading.Lock()
        return VISUALIZERS.build(dict(cfg.visualizer, vis_backends=None, name=f'infer_{id(self)}'))

    def visualize(self, inputs: List[LoadedImage], preds: list, pred_score_thr: float = 0.3,
                  out_dir: Optional[str] = None) -> List[np.ndarray]:
        """Pictures (RGB) of predicted samples on their loaded images; with ``out_dir`` also written to
        ``out_dir/vis/<name>.png``."""
        drawn = []
        for image, sample in zip(inputs, preds):
            out_file = osp.join(out_dir, 'vis', image.name + '.png') if out_dir else None
            with self._draw_lock:
                self.visualizer.add_datasample(image.name, image.array, sample, pred_score_thr=pred_score_thr,
                                               out_file=out_file)
                drawn.append(self.visualizer.get_image())
        return drawn

    def postprocess(self, preds: List[dict], visualization: List[np.ndarray], return_datasamples: bool = False,
                    skipped: Optional[List[dict]] = None) -> dict:
        """``{'predictions': [JSON-able dict per image], 'visualization': [RGB], 'skipped': [...]}``."""
        return dict(predictions=preds, visualization=visualization, skipped=list(skipped or []))

    # ---- inputs --------------------------------------------------------------------------------------
    def _prepare(self, image: LoadedImage, messages: list, region_prompts: Optional[list] = None, **meta) -> dict:
        """Run the pipeline on a loaded image; ``region_prompts``: visual prompts in its array's coordinates."""
        arr = image.array
        results = dict(img=arr, img_path=image.source or image.name + '.png', img_shape=arr.shape[:2],
                       ori_shape=arr.shape[:2])
        if region_prompts:
            results['region_prompts'] = list(region_prompts)
        results = self.after_loading(results)
        results['data_samples'].set_metainfo(dict(messages=messages, **meta))
        return results

    def _pack_only(self, messages: list, **meta) -> dict:
        """Inputs for a prompt without an image (generation): the config's packing transform only."""
        pack = self.pipeline.transforms[-1]
        results = pack.transform(dict(img_path='', img_id=None))
        results['data_samples'].set_metainfo(dict(messages=messages, **meta))
        return results

    def _load_one(self, image: ImageInput, name: Optional[str] = None) -> LoadedImage:
        return load_image(list_images(image)[0], 0, self.max_image_size, self.max_aspect, name)

    def _each_loaded(self, images: List[ImageInput], per_group: int, skip_errors: bool, skipped: List[dict],
                     progress: bool):
        """Yield groups of up to ``per_group`` loaded images (named by :func:`output_names`); unreadable files
        are raised, or skipped with one logged line and recorded in ``skipped``. A progress bar over files
        when ``progress``."""
        bar = progress_bar(len(images), progress)
        names = output_names(images)
        for start in range(0, len(images), per_group):
            group = []
            for k, img in enumerate(images[start:start + per_group], start):
                try:
                    group.append(load_image(img, k, self.max_image_size, self.max_aspect, names[k]))
                except BadSampleError as e:
                    if not skip_errors:
                        raise
                    skipped.append(dict(image=str(img), reason=e.reason))
                    print_log(f'skipped {img}: {e.reason}', logger='current', level=30)
            if group:
                yield group
            bar(min(per_group, len(images) - start))

    # ---- running the model ---------------------------------------------------------------------------
    @torch.no_grad()
    def _run(self, items: List[dict], options: Optional[PredictOptions] = None) -> list:
        """Prepared inputs -> predicted samples, with this call's ``options``."""
        data = self.model.data_preprocessor(pseudo_collate(items), False)
        return self.model.predict(data['inputs'], data['data_samples'], options)

    def _run_batched(self, items: List[dict], batch_size: int, options: Optional[PredictOptions] = None) -> list:
        out = []
        for i in range(0, len(items), batch_size):
            out += self._run(items[i:i + batch_size], options)
        return out

    def _draw(self, image: LoadedImage, sample, out_dir: Optional[str], pred_score_thr: float,
              return_vis: bool, vis: list) -> None:
        if out_dir or return_vis:
            drawn = self.visualize([image], [sample], pred_score_thr, out_dir)
            if return_vis:
                vis += drawn

    # ---- detection -----------------------------------------------------------------------------------
    def __call__(self, inputs: Union[ImageInput, Sequence[ImageInput]], texts=None, free: bool = False,
                 batch_size: int = 1, pred_score_thr: float = 0.3, out_dir: Optional[str] = None,
                 return_vis: bool = False, progress: bool = False, skip_errors: bool = False) -> Dict[str, list]:
        """Open-vocabulary detection (+ masks) of ``texts`` in every image.

        Returns ``{'predictions': [dict per image], 'visualization': [RGB arrays] (if return_vis),
        'skipped': [{'image', 'reason'}]}``. With ``out_dir`` each image's ``preds/<name>.json`` and
        ``vis/<name>.png`` are written as soon as its batch is done. Boxes and masks (COCO RLE) are in
        the file's coordinates.
        """
        images = list_images(inputs)
        names = parse_texts(texts)
        chunks = [names[i:i + self.max_classes_per_prompt] for i in range(0, len(names), self.max_classes_per_prompt)]
        preds, vis, skipped = [], [], []
        per_group = max(1, batch_size // len(chunks))
        options = None
        if 'det' in self.model.decoders:  # instances below the threshold are dropped anyway: no masks for them
            thr = max(pred_score_thr, self.model.decoders['det'].test_cfg.get('score_thr', 0.0))
            options = PredictOptions(decoders=dict(det=dict(score_thr=thr)))
        for group in self._each_loaded(images, per_group, skip_errors, skipped, progress):
            items = []
            for image in group:
                for chunk in chunks:
                    conv = prompts.det_conversation(chunk)
                    items.append(self._prepare(image, conv[:1] if free else conv, task='det', class_names=chunk,
                                               answer_mode='free' if free else 'prompted',
                                               gt_groups=[(n, '[DET]') for n in chunk]))
            samples = self._run_batched(items, batch_size, options)
            for k, image in enumerate(group):
                pred, sample = merge_chunks(samples[k * len(chunks):(k + 1) * len(chunks)], pred_score_thr, image)
                preds.append(pred)
                self._draw(image, sample, out_dir, pred_score_thr, return_vis, vis)
                if out_dir:
                    os.makedirs(osp.join(out_dir, 'preds'), exist_ok=True)
                    with open(osp.join(out_dir, 'preds', image.name + '.json'), 'w') as f:
                        json.dump(pred, f)
        return self.postprocess(preds, vis, skipped=skipped)
