"""VisionLLMInferencer: chat / detect / segment / pose / generate / edit with a trained generalist, batched,
prompted or free; folders are processed file by file with each file's outputs written as soon as it is done."""
import json
import os
import os.path as osp
from contextlib import contextmanager, nullcontext
from typing import Callable, Dict, List, Optional, Sequence, Union

import numpy as np
import torch
from mmengine.config import Config
from mmengine.dataset import Compose, pseudo_collate
from mmengine.infer import BaseInferencer
from mmengine.logging import print_log
from mmengine.registry import init_default_scope

from visionllm.datasets import prompts
from visionllm.registry import INFERENCERS, MODELS, VISUALIZERS
from visionllm.utils.errors import BadSampleError, PromptError
from visionllm.utils.names import name_problem

from .checkpoints import load_weights
from .image_inputs import ImageInput, LoadedImage, list_images, load_image, max_aspect_of, rle_at, to_original
from .region_inference import RegionInferenceMixin
from .tile_size import sync_tile_size

DEFAULT_MAX_IMAGE_SIZE = 1333  # longer side; larger images are downscaled for the model (mmdet's test scale)


def parse_texts(texts: Union[str, Sequence[str], None]) -> List[str]:
    """'cat . dog .' or ['cat', 'dog'] -> ['cat', 'dog'] (duplicates dropped, with one logged line)."""
    if texts is None:
        raise PromptError('no class names given; pass e.g. texts="red circle . blue square"')
    names = [t.strip() for t in (texts.split('.') if isinstance(texts, str) else texts)]
    names = [n for n in names if n]
    if not names:
        raise PromptError('empty class list; give at least one name, e.g. texts="red circle . blue square"')
    for n in names:
        problem = name_problem(n)
        if problem:
            raise PromptError(problem)
    uniq = list(dict.fromkeys(names))
    if len(uniq) < len(names):
        dup = sorted({n for n in names if names.count(n) > 1})
        print_log(f'duplicate class names dropped: {", ".join(dup)}', logger='current', level=30)
    return uniq


@INFERENCERS.register_module()
class VisionLLMInferencer(RegionInferenceMixin, BaseInferencer):
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
        # no storage backends: the inferencer writes its pictures itself
        return VISUALIZERS.build(dict(cfg.visualizer, vis_backends=None, name=f'infer_{id(self)}'))

    def visualize(self, inputs: List[LoadedImage], preds: list, pred_score_thr: float = 0.3,
                  out_dir: Optional[str] = None) -> List[np.ndarray]:
        """Pictures (RGB) of predicted samples on their loaded images; with ``out_dir`` also written to
        ``out_dir/vis/<name>.png``."""
        drawn = []
        for image, sample in zip(inputs, preds):
            out_file = osp.join(out_dir, 'vis', image.name + '.png') if out_dir else None
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

    def _load_one(self, image: ImageInput) -> LoadedImage:
        return load_image(list_images(image)[0], 0, self.max_image_size, self.max_aspect)

    def _each_loaded(self, images: List[ImageInput], per_group: int, skip_errors: bool, skipped: List[dict],
                     progress: bool):
        """Yield groups of up to ``per_group`` loaded images; unreadable files are raised, or skipped with one
        logged line and recorded in ``skipped``. A progress bar over files when ``progress``."""
        bar = _progress(len(images), progress)
        for start in range(0, len(images), per_group):
            group = []
            for k, img in enumerate(images[start:start + per_group], start):
                try:
                    group.append(load_image(img, k, self.max_image_size, self.max_aspect))
                except BadSampleError as e:
                    if not skip_errors:
                        raise
                    skipped.append(dict(image=str(img), reason=e.reason))
                    print_log(f'skipped {img}: {e.reason}', logger='current', level=30)
            if group:
                yield group
            bar(min(per_group, len(images) - start))

    @torch.no_grad()
    def _run(self, items: List[dict]) -> list:
        return self.model.test_step(pseudo_collate(items))

    def _run_batched(self, items: List[dict], batch_size: int) -> list:
        out = []
        for i in range(0, len(items), batch_size):
            out += self._run(items[i:i + batch_size])
        return out

    def _draw(self, image: LoadedImage, sample, out_dir: Optional[str], pred_score_thr: float,
              return_vis: bool, vis: list) -> None:
        if out_dir or return_vis:
            drawn = self.visualize([image], [sample], pred_score_thr, out_dir)
            if return_vis:
                vis += drawn

    # ---- tasks --------------------------------------------------------------------------------------
    def chat(self, image: Optional[ImageInput], messages: Union[str, Sequence[dict]],
             max_new_tokens: Optional[int] = None, return_dict: bool = False, pred_score_thr: float = 0.3,
             **generation) -> Union[str, dict]:
        """Answer the last user turn of a conversation about an image (KV-cache generation).

        Args:
            messages: one question, or the whole conversation so far: ``[{'role': 'user', 'content': q1},
                {'role': 'assistant', 'content': a1}, {'role': 'user', 'content': q2}]`` (multi-round: the
                image and earlier turns stay in the context). ``<image>`` goes before the first question
                unless a message places it.
            generation: :class:`GenerationOptions` kwargs: ``do_sample``, ``temperature``, ``top_k``,
                ``top_p``, ``repetition_penalty``, ``seed`` (greedy by default), or ``num_beams`` and
                ``length_penalty`` for beam search.

        The answer never carries routing tokens: when the LLM routes (e.g. asked to detect something),
        its query states go to the decoders and, with ``return_dict``, their results come back:
        ``{'text': answer, 'routes': [(name, token)], 'predictions': {...} or None}`` (predictions as
        ``__call__`` gives them). Otherwise the answer text is returned.
        """
        return self._chat(image, messages, max_new_tokens, pred_score_thr, generation, None, return_dict)

    def chat_stream(self, image: Optional[ImageInput], messages: Union[str, Sequence[dict]],
                    max_new_tokens: Optional[int] = None, pred_score_thr: float = 0.3, **generation):
        """As :meth:`chat`, streamed: yields ``{'text': answer so far, 'done': False}`` as tokens come,
        then ``chat``'s result dict with ``'done': True``."""
        import queue
        import threading
        q: queue.Queue = queue.Queue()
        result: dict = {}

        def work():
            try:
                result['out'] = self._chat(image, messages, max_new_tokens, pred_score_thr, generation,
                                           lambda b, tok: q.put(tok), True)
            except BaseException as e:  # re-raised in the caller's thread
                result['error'] = e
            q.put(None)

        threading.Thread(target=work, daemon=True).start()
        ids = []
        while (tok := q.get()) is not None:
            ids.append(tok)
            yield dict(text=self._answer_text(ids), done=False)
        if 'error' in result:
            raise result['error']
        yield dict(result['out'], done=True)

    def _answer_text(self, ids: List[int]) -> str:
        from visionllm.evaluation import strip_routes
        tokens = list(self.model.superlink.token_to_family)
        return strip_routes(self.model._clean_text(ids), tokens)

    def _chat(self, image, messages, max_new_tokens, pred_score_thr, generation: dict, streamer,
              return_dict: bool):
        from visionllm.evaluation import parse_routes, strip_routes
        from visionllm.models.superlink import GenerationOptions
        conv = conversation(messages, with_image=image is not None)
        GenerationOptions(**generation)  # bad options fail here, with the option named
        overrides = dict(generation=generation, streamer=streamer)
        if max_new_tokens:
            overrides['max_new_tokens'] = max_new_tokens
        with _overridden(self.model.test_cfg, overrides):
            if image is None:
                loaded, item = None, self._pack_only(conv, task='chat')
            else:
                loaded = self._load_one(image)
                item = self._prepare(loaded, conv, task='chat')
            sample = self._run([item])[0]
        tokens = list(self.model.superlink.token_to_family)
        text = strip_routes(sample.pred_text, tokens)
        if not return_dict:
            return text
        routed = 'pred_instances' in sample and loaded is not None
        return dict(text=text, routes=parse_routes(sample.pred_text, tokens),
                    predictions=_merge([sample], pred_score_thr, loaded)[0] if routed else None)

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
            conv = prompts.gen_conversation(t)
            items.append(self._pack_only(conv[:1] if free else conv, task='gen', text=t))
        return self._images(items, batch_size, sampling, 'gen')

    def edit(self, image: Optional[ImageInput], instruction: str, free: bool = False, **sampling) -> np.ndarray:
        """Edit one image following ``instruction``; returns RGB uint8 [S, S, 3]."""
        if image is None:
            raise PromptError('an edit request needs an image')
        if not instruction or not instruction.strip():
            raise PromptError('empty edit instruction')
        conv = prompts.edit_conversation(instruction)
        item = self._prepare(self._load_one(image), conv[:1] if free else conv, task='edit', instruction=instruction)
        return self._images([item], 1, sampling, 'edit')[0]

    def segment(self, inputs: Union[ImageInput, Sequence[ImageInput]], texts, batch_size: int = 1,
                out_dir: Optional[str] = None, skip_errors: bool = False, progress: bool = False,
                return_vis: bool = False) -> List[dict]:
        """Semantic segmentation over the prompted class names: per image ``{'label_map': [H, W] int
        (index into 'class_names'), 'class_names': [...]}``; with ``out_dir`` also overlay pictures (with
        ``return_vis`` as each result's ``visualization``, RGB). Skipped files (``skip_errors``) are left
        out of the list."""
        names = parse_texts(texts)
        if len(names) > self.max_classes_per_prompt:
            raise PromptError(f'{len(names)} classes; at most {self.max_classes_per_prompt} per segmentation prompt')
        conv = prompts.seg_conversation(names)
        return self._dense(inputs, conv, dict(task='semseg', class_names=names), batch_size, out_dir,
                           lambda s: dict(label_map=s.pred_sem_seg.data[0].cpu().numpy(), class_names=names),
                           skip_errors=skip_errors, progress=progress, return_vis=return_vis)

    def pose(self, inputs: Union[ImageInput, Sequence[ImageInput]], object_name: str, keypoints,
             batch_size: int = 1, pred_score_thr: float = 0.3, out_dir: Optional[str] = None,
             skeleton: Sequence[Sequence[str]] = (), skip_errors: bool = False, progress: bool = False,
             return_vis: bool = False) -> List[dict]:
        """Detect ``object_name`` and locate the named ``keypoints`` of each instance: per image
        ``{'bboxes', 'scores', 'keypoints' [N, K, 2], 'keypoint_scores' [N, K], 'keypoint_names'}``."""
        kpts = parse_texts(keypoints)
        obj = parse_texts([object_name])[0]
        conv = prompts.pose_conversation(obj, kpts)

        def result(s):
            inst = s.pred_pose if 'pred_pose' in s else s.pred_instances
            keep = (inst.scores >= pred_score_thr).nonzero().flatten()
            inst = inst[keep] if 'keypoints' in inst else inst[keep[:0]]
            return dict(bboxes=inst.bboxes.tolist(), scores=inst.scores.tolist(), keypoint_names=kpts,
                        keypoints=inst.keypoints.tolist() if 'keypoints' in inst else [],
                        keypoint_scores=inst.keypoint_scores.tolist() if 'keypoint_scores' in inst else [])
        return self._dense(inputs, conv, dict(task='pose', class_names=[obj], keypoint_names=kpts,
                                              skeleton=[tuple(p) for p in skeleton]),
                           batch_size, out_dir, result, pred_score_thr, skip_errors, progress, return_vis)

    def run_task(self, inputs: Union[ImageInput, Sequence[ImageInput]], task: str, texts, batch_size: int = 1,
                 out_dir: Optional[str] = None, skip_errors: bool = False, progress: bool = False) -> List[dict]:
        """Any registered task through its spec (``visionllm.structures.tasks``): the names in ``texts`` are
        prompted with the task's generic conversation (the one its datasets build); per image the spec's
        ``pred_fields`` as JSON-ready values (dense maps as nested lists [C, H, W] at the file's size, other
        tensors / data elements as lists / dicts) and ``class_names``."""
        from visionllm.structures.tasks import task_spec
        try:
            spec = task_spec(task)
        except KeyError as e:
            raise PromptError(e.args[0]) from None
        if spec.family != 'text' and spec.family not in self.model.decoders:
            raise PromptError(f'task {task!r} needs the `{spec.family}` decoder, which this model does not have')
        names = parse_texts(texts)
        try:
            conv = prompts.task_conversation(spec, names)
        except ValueError as e:
            raise PromptError(str(e)) from None

        def result(s):  # dense maps (PixelData) as arrays [C, h, w]: to_original brings them to the file's size
            from mmengine.structures import PixelData
            fields = {f: s.get(f) for f in spec.pred_fields if f in s}
            return dict({f: v.data.cpu().numpy() if isinstance(v, PixelData) else _jsonable(v)
                         for f, v in fields.items()}, class_names=names)
        out = self._dense(inputs, conv, dict(task=task, class_names=names, gt_groups=[(n, spec.route) for n in names]),
                          batch_size, out_dir, result, skip_errors=skip_errors, progress=progress)
        return [{k: v.tolist() if isinstance(v, np.ndarray) else v for k, v in r.items()} for r in out]

    def _dense(self, inputs, conv, meta: dict, batch_size: int, out_dir: Optional[str], result: Callable,
               pred_score_thr: float = 0.3, skip_errors: bool = False, progress: bool = False,
               return_vis: bool = False) -> List[dict]:
        out: List[dict] = []
        self.last_skipped: List[dict] = []
        for group in self._each_loaded(list_images(inputs), batch_size, skip_errors, self.last_skipped, progress):
            for image, s in zip(group, self._run([self._prepare(img, conv, **meta) for img in group])):
                out.append(to_original(result(s), image))
                vis: list = []
                self._draw(image, s, out_dir, pred_score_thr, return_vis, vis)
                if return_vis:
                    out[-1]['visualization'] = vis[0]
        return out

    @contextmanager
    def _decoder_cfg(self, family: str, **overrides):
        """The ``family`` decoder's ``test_cfg`` with ``overrides`` (None values ignored) inside the block."""
        decoder = self.model.decoders[family] if family in self.model.decoders else None
        if decoder is None:
            raise PromptError(f'this model has no `{family}` decoder')
        saved = dict(decoder.test_cfg)
        decoder.test_cfg.update({k: v for k, v in overrides.items() if v is not None})
        try:
            yield
        finally:
            decoder.test_cfg.clear()
            decoder.test_cfg.update(saved)

    def _images(self, items: list, batch_size: int, sampling: dict, family: str) -> List[np.ndarray]:
        with self._decoder_cfg(family, **sampling):
            out = []
            for s in self._run_batched(items, batch_size):
                if 'pred_image' not in s:
                    raise PromptError(f'the model answered without a {family} route: {s.get("pred_text", "")!r}')
                out.append(s.pred_image.cpu().numpy().transpose(1, 2, 0))
            return out

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
        for group in self._each_loaded(images, per_group, skip_errors, skipped, progress):
            items = []
            for image in group:
                for chunk in chunks:
                    conv = prompts.det_conversation(chunk)
                    items.append(self._prepare(image, conv[:1] if free else conv, task='det', class_names=chunk,
                                               answer_mode='free' if free else 'prompted',
                                               gt_groups=[(n, '[DET]') for n in chunk]))
            # instances below the threshold are dropped anyway: the decoder need not build their masks
            thr = max(pred_score_thr, self.model.decoders['det'].test_cfg.get('score_thr', 0.0)) \
                if 'det' in self.model.decoders else None
            with self._decoder_cfg('det', score_thr=thr) if thr is not None else nullcontext():
                samples = self._run_batched(items, batch_size)
            for k, image in enumerate(group):
                pred, sample = _merge(samples[k * len(chunks):(k + 1) * len(chunks)], pred_score_thr, image)
                preds.append(pred)
                self._draw(image, sample, out_dir, pred_score_thr, return_vis, vis)
                if out_dir:
                    os.makedirs(osp.join(out_dir, 'preds'), exist_ok=True)
                    with open(osp.join(out_dir, 'preds', image.name + '.json'), 'w') as f:
                        json.dump(pred, f)
        return self.postprocess(preds, vis, skipped=skipped)


def _progress(total: int, enabled: bool):
    if not enabled:
        return lambda n: None
    from tqdm import tqdm
    bar = tqdm(total=total, unit='file')
    return bar.update


def _merge(samples: list, thr: float, image: LoadedImage):
    """Concatenate the chunks of one image; returns (JSON-able dict in the file's coordinates, a drawable
    sample in the model image's coordinates)."""
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


def conversation(messages: Union[str, Sequence[dict]], with_image: bool = True) -> List[dict]:
    """A question or a conversation -> checked chat messages ending with a user turn; ``<image>`` is put
    before the first question (``with_image``) unless a message places it."""
    if isinstance(messages, str):
        messages = [dict(role='user', content=messages)]
    conv = [dict(m) for m in messages]
    if not conv:
        raise PromptError('empty conversation: give a question')
    for i, m in enumerate(conv):
        want = 'user' if i % 2 == 0 else 'assistant'
        if m.get('role') != want or not isinstance(m.get('content'), str):
            raise PromptError(f'message {i}: expected {{"role": "{want}", "content": str}} (turns alternate, '
                              f'starting with the user), got {m!r}')
        if want == 'user' and not m['content'].strip():  # an earlier answer may be empty, a question not
            raise PromptError(f'message {i} (user) is empty')
    if conv[-1]['role'] != 'user':
        raise PromptError('the conversation must end with a user turn (the question to answer)')
    n_img = sum(m['content'].count('<image>') for m in conv)
    if with_image and n_img == 0:
        conv[0]['content'] = '<image>\n' + conv[0]['content']
    elif with_image and n_img > 1:
        raise PromptError(f'{n_img} <image> placeholders in the conversation; one image per conversation')
    elif not with_image and n_img:
        raise PromptError('the conversation places <image> but no image was given')
    return conv


@contextmanager
def _overridden(cfg: dict, overrides: dict):
    """``cfg`` with ``overrides`` inside the block; restored afterwards (keys absent before are removed)."""
    saved = {k: cfg[k] for k in overrides if k in cfg}
    cfg.update(overrides)
    try:
        yield
    finally:
        for k in overrides:
            cfg.pop(k, None)
        cfg.update(saved)


def _jsonable(value):
    """Tensors, arrays and mmengine data elements (PixelData / InstanceData) -> lists and dicts."""
    if hasattr(value, 'to_dict') and hasattr(value, 'keys'):
        return {k: _jsonable(v) for k, v in value.to_dict().items()}
    if isinstance(value, torch.Tensor):
        return value.detach().float().cpu().tolist() if value.is_floating_point() else value.cpu().tolist()
    if isinstance(value, np.ndarray):
        return value.tolist()
    return value
