"""Transforms that write a task's conversation from its annotations."""
import zlib
from typing import Optional, Sequence

import numpy as np
from mmcv.transforms import BaseTransform

from visionllm.datasets import prompts
from visionllm.registry import TRANSFORMS
from visionllm.utils.errors import BadSampleError, ConfigError


def _conversation(results: dict, field: str, build):
    """``build()``, with a name that cannot be written into a prompt reported as a bad sample."""
    try:
        return build()
    except ValueError as e:
        raise BadSampleError(results.get('img_path', '?'), field, str(e)) from None


def _template(task: str, mode: str, results: dict, key_field: str = 'img_path') -> str:
    """The request phrasing of ``task`` for this sample (:func:`visionllm.datasets.prompts.phrasing`)."""
    return prompts.phrasing(task, mode, results.get(key_field))


def _check_phrasing(mode: str) -> str:
    if mode not in prompts.PHRASING_MODES:
        raise ConfigError(f'phrasing must be one of {prompts.PHRASING_MODES}, got {mode!r}')
    return mode


def _keep(results: dict, keep: np.ndarray) -> None:
    """Keep only the gt instances where ``keep`` is True."""
    for k in ('gt_bboxes', 'gt_bboxes_labels', 'gt_masks', 'gt_ignore_flags', 'gt_keypoints',
              'gt_keypoints_visible'):
        if k in results:
            results[k] = results[k][keep]


@TRANSFORMS.register_module()
class BuildDetectionConversation(BaseTransform):
    """Choose the class list of a detection prompt and write the conversation.

    Training: sometimes all classes (``p_all``), otherwise the positives plus random negatives,
    shuffled; at most ``max_classes`` (positives beyond that are dropped with their boxes). A sample of a
    federated dataset (LVIS) lists the names verified absent from it (``negative_classes``): its negatives
    come from those alone and it is never prompted with all classes. Test:
    all dataset classes in the dataset's prompt order (``prompt_classes`` if the sample has it, else
    ``dataset_classes``), or the sample's chunk of them (``class_range``, set by
    ``CocoOVDDataset(class_chunk=...)``). The class order defines the label index: gt labels are
    remapped to positions in ``class_names``.

    Args:
        answer_mode: ``'prompted'`` (the answer template with routing tokens is part of the input,
            one forward) or ``'free'`` (the LLM must generate it; ``gt_groups`` holds the expected
            (name, routing token) pairs for the routing metric).
        classes: restrict prompts to these names (default: the dataset's classes).
        phrasing: the request's wording (``visionllm.datasets.prompts.PHRASINGS``): ``'default'``,
            ``'train'`` (a random training phrasing) or ``'held_out'`` (one never trained on).
        request_sizes: test only: ``(lo, hi)`` asks each sample for a random subset of ``lo..hi`` of the
            names (fixed per image, in random order) instead of all of them, as a user's requests vary.
    """

    def __init__(self, test_mode: bool = False, max_classes: int = 30, p_all: float = 0.2,
                 num_negatives: Sequence[int] = (1, 8), answer_mode: str = 'prompted',
                 routing_token: str = '[DET]', classes: Optional[Sequence[str]] = None,
                 phrasing: str = 'default', request_sizes: Optional[Sequence[int]] = None):
        assert answer_mode in ('prompted', 'free'), f'answer_mode must be prompted or free, got {answer_mode}'
        self.test_mode, self.max_classes, self.p_all = test_mode, max_classes, p_all
        self.num_negatives = tuple(num_negatives)
        self.answer_mode, self.routing_token = answer_mode, routing_token
        self.classes = list(classes) if classes else None
        self.phrasing = _check_phrasing(phrasing)
        if request_sizes is not None and not (test_mode and len(request_sizes) == 2
                                              and 1 <= request_sizes[0] <= request_sizes[1]):
            raise ConfigError(f'request_sizes must be (lo, hi) with 1 <= lo <= hi, in test mode; got {request_sizes}')
        self.request_sizes = tuple(request_sizes) if request_sizes is not None else None

    def _request(self, names, key) -> list:
        """A random subset of ``names`` of ``request_sizes`` length, fixed by ``key`` (the image path)."""
        rng = np.random.RandomState(zlib.crc32(str(key).encode()))
        k = rng.randint(self.request_sizes[0], min(self.request_sizes[1], len(names)) + 1)
        return [names[i] for i in rng.permutation(len(names))[:k]]

    def _choose(self, all_names, pos_names, negative_pool=None):
        rng = np.random
        if self.test_mode:
            return list(all_names)
        if negative_pool is None and rng.rand() < self.p_all and len(all_names) <= self.max_classes:
            chosen = list(all_names)
        else:
            pool = set(all_names if negative_pool is None else negative_pool)
            negs = [n for n in all_names if n in pool and n not in pos_names]
            k = min(len(negs), rng.randint(self.num_negatives[0], self.num_negatives[1] + 1))
            chosen = list(pos_names) + [negs[i] for i in rng.choice(len(negs), k, replace=False)]
        rng.shuffle(chosen)
        return chosen[:self.max_classes]

    def transform(self, results: dict) -> dict:
        if 'gt_ignore_flags' in results:  # crowd regions are not objects to name
            _keep(results, ~np.asarray(results['gt_ignore_flags'], bool))
        dataset_names = list(results['dataset_classes'])
        names = self.classes or (list(results.get('prompt_classes') or dataset_names) if self.test_mode
                                 else dataset_names)
        if self.test_mode and 'class_range' in results:
            names = names[results['class_range'][0]:results['class_range'][1]]
        if self.request_sizes is not None:
            names = self._request(names, results.get('img_path'))
        labels = np.asarray(results.get('gt_bboxes_labels', np.zeros(0, np.int64)))
        gt_names = [dataset_names[i] for i in labels]
        pos = list(dict.fromkeys(n for n in gt_names if n in names))
        chosen = self._choose(names, pos, results.get('negative_classes'))
        index = {n: i for i, n in enumerate(chosen)}
        keep = np.array([n in index for n in gt_names], bool)
        _keep(results, keep)
        results['gt_bboxes_labels'] = np.array([index[n] for n, k in zip(gt_names, keep) if k], np.int64)
        results['class_names'] = chosen
        results['task'] = 'det'
        template = _template('det', self.phrasing, results)
        conv = _conversation(results, 'class_names',
                             lambda: prompts.det_conversation(chosen, self.routing_token, template))
        results['gt_groups'] = [(n, self.routing_token) for n in chosen]
        results['messages'] = conv[:1] if self.answer_mode == 'free' else conv
        results['answer_mode'], results['phrasing'] = self.answer_mode, self.phrasing
        return results


@TRANSFORMS.register_module()
class BuildGroundingConversation(BaseTransform):
    """Referring expression -> ``Please locate <expr> ...`` / ``Here are the results: <expr>[GRD].``
    with one group (the expression) and the referred object as label 0."""

    def __init__(self, answer_mode: str = 'prompted', phrasing: str = 'default'):
        assert answer_mode in ('prompted', 'free')
        self.answer_mode, self.phrasing = answer_mode, _check_phrasing(phrasing)

    def transform(self, results: dict) -> dict:
        expr = results['expression']
        template = _template('grounding', self.phrasing, results)
        conv = _conversation(results, 'expression', lambda: prompts.grounding_conversation(expr, template))
        results.update(class_names=[expr], task='grounding', answer_mode=self.answer_mode, phrasing=self.phrasing,
                       gt_groups=[(expr, '[GRD]')], messages=conv[:1] if self.answer_mode == 'free' else conv)
        return results


@TRANSFORMS.register_module()
class BuildSegmentationConversation(BaseTransform):
    """Class list + conversation of a semantic-segmentation prompt; remaps ``gt_seg_map`` to indices of
    the prompted classes. Pixels of classes not prompted, and values outside the class list, become
    ``ignore_index`` (the latter are counted in ``invalid_label_pixels``). Sampling as in
    :class:`BuildDetectionConversation`."""

    def __init__(self, test_mode: bool = False, max_classes: int = 32, p_all: float = 0.3,
                 num_negatives: Sequence[int] = (1, 8), ignore_index: int = 255, answer_mode: str = 'prompted',
                 phrasing: str = 'default'):
        self._choose_det = BuildDetectionConversation(test_mode, max_classes, p_all, num_negatives)
        self.ignore_index, self.answer_mode, self.phrasing = ignore_index, answer_mode, _check_phrasing(phrasing)

    def transform(self, results: dict) -> dict:
        names = list(results['dataset_classes'])
        seg = np.asarray(results['gt_seg_map'])
        present = [int(v) for v in np.unique(seg) if v != self.ignore_index and v < len(names)]
        chosen = self._choose_det._choose(names, [names[v] for v in present])
        lut = np.full(256, self.ignore_index, np.uint8)
        for i, n in enumerate(chosen):
            lut[names.index(n)] = i
        results['invalid_label_pixels'] = int(((seg >= len(names)) & (seg != self.ignore_index)).sum())
        results['gt_seg_map'] = lut[seg.astype(np.int64).clip(0, 255)]
        template = _template('semseg', self.phrasing, results)
        conv = _conversation(results, 'class_names', lambda: prompts.seg_conversation(chosen, template))
        results.update(class_names=chosen, task='semseg', answer_mode=self.answer_mode, phrasing=self.phrasing,
                       gt_groups=[(n, '[SEG]') for n in chosen],
                       messages=conv[:1] if self.answer_mode == 'free' else conv)
        return results


@TRANSFORMS.register_module()
class LoadPoseAnnotations(BaseTransform):
    """``instances`` -> ``gt_bboxes`` (HorizontalBoxes), ``gt_bboxes_labels``, ``gt_ignore_flags``,
    ``gt_keypoints`` [N, K, 2], ``gt_keypoints_visible`` [N, K], aligned."""

    def transform(self, results: dict) -> dict:
        from mmdet.structures.bbox import HorizontalBoxes
        inst = results.get('instances', [])
        K = len(results['keypoint_names'])
        results['gt_bboxes'] = HorizontalBoxes(np.array([i['bbox'] for i in inst], np.float32).reshape(-1, 4))
        results['gt_bboxes_labels'] = np.array([i['bbox_label'] for i in inst], np.int64)
        results['gt_ignore_flags'] = np.array([i['ignore_flag'] for i in inst], bool)
        results['gt_keypoints'] = np.array([i['keypoints'] for i in inst], np.float32).reshape(-1, K, 2)
        results['gt_keypoints_visible'] = np.array([i['keypoints_visible'] for i in inst], np.float32).reshape(-1, K)
        return results


@TRANSFORMS.register_module()
class RescaleKeypoints(BaseTransform):
    """Scale ``gt_keypoints`` by ``scale_factor`` (put after mmdet's Resize, which scales boxes only)."""

    def transform(self, results: dict) -> dict:
        if 'gt_keypoints' in results and 'scale_factor' in results:
            results['gt_keypoints'] = results['gt_keypoints'] * np.asarray(results['scale_factor'], np.float32)
        return results


@TRANSFORMS.register_module()
class BuildPoseConversation(BaseTransform):
    """``<object>[DET], <kpt 1>[POSE], <kpt 2>[POSE] ...``: the object name (the dataset's category) is a
    detection group, each keypoint name a pose group. Training picks a random subset (at least
    ``min_keypoints``) in random order and reorders ``gt_keypoints`` to it; test uses all, in file order.
    Instances whose keypoints are all invisible are dropped (crowd regions too)."""

    def __init__(self, test_mode: bool = False, min_keypoints: int = 2, answer_mode: str = 'prompted',
                 phrasing: str = 'default'):
        self.test_mode, self.min_keypoints, self.answer_mode = test_mode, min_keypoints, answer_mode
        self.phrasing = _check_phrasing(phrasing)

    def transform(self, results: dict) -> dict:
        names = list(results['keypoint_names'])
        if self.test_mode:
            order = list(range(len(names)))
        else:
            k = np.random.randint(min(self.min_keypoints, len(names)), len(names) + 1)
            order = list(np.random.permutation(len(names))[:k])
        keep = ~np.asarray(results['gt_ignore_flags'], bool) & (results['gt_keypoints_visible'].sum(1) > 0)
        _keep(results, keep)
        results['gt_keypoints'] = results['gt_keypoints'][:, order]
        results['gt_keypoints_visible'] = results['gt_keypoints_visible'][:, order]
        obj = results['dataset_classes'][0]
        kpts = [names[i] for i in order]
        template = _template('pose', self.phrasing, results)
        conv = _conversation(results, 'keypoint_names', lambda: prompts.pose_conversation(obj, kpts, template))
        results.update(class_names=[obj], keypoint_names=kpts, task='pose', answer_mode=self.answer_mode,
                       phrasing=self.phrasing,
                       gt_groups=[(obj, '[DET]')] + [(n, '[POSE]') for n in kpts],
                       messages=conv[:1] if self.answer_mode == 'free' else conv)
        return results


@TRANSFORMS.register_module()
class BuildGenerationConversation(BaseTransform):
    """``Please draw <text>.`` -> ``Here is the image: [GEN].`` (one [GEN] group)."""

    def __init__(self, answer_mode: str = 'prompted', max_prompt_chars: int = 300, phrasing: str = 'default'):
        self.answer_mode, self.max_prompt_chars = answer_mode, max_prompt_chars
        self.phrasing = _check_phrasing(phrasing)

    def transform(self, results: dict) -> dict:
        text = results['text'].strip().rstrip('.')
        if not text:
            raise BadSampleError(results.get('gt_img_path', '?'), 'text', 'empty generation prompt')
        if len(text) > self.max_prompt_chars:
            raise BadSampleError(results.get('gt_img_path', '?'), 'text',
                                 f'prompt of {len(text)} characters exceeds max_prompt_chars={self.max_prompt_chars}')
        conv = prompts.gen_conversation(text, _template('gen', self.phrasing, results, 'text'))
        results.update(task='gen', answer_mode=self.answer_mode, phrasing=self.phrasing, gt_groups=[('', '[GEN]')],
                       messages=conv[:1] if self.answer_mode == 'free' else conv)
        return results


@TRANSFORMS.register_module()
class BuildEditConversation(BaseTransform):
    """``<image> Please edit the image: <instruction>.`` -> ``Here is the edited image: [EDIT].``"""

    def __init__(self, answer_mode: str = 'prompted', phrasing: str = 'default'):
        self.answer_mode, self.phrasing = answer_mode, _check_phrasing(phrasing)

    def transform(self, results: dict) -> dict:
        conv = prompts.edit_conversation(results['instruction'], _template('edit', self.phrasing, results))
        results.update(task='edit', answer_mode=self.answer_mode, phrasing=self.phrasing, gt_groups=[('', '[EDIT]')],
                       messages=conv[:1] if self.answer_mode == 'free' else conv)
        return results


@TRANSFORMS.register_module()
class BuildTaskConversation(BaseTransform):
    """The conversation of any registered task from its spec (``TaskSpec.prompt`` / ``route``; see
    ``visionllm.datasets.prompts.task_conversation``): the prompted names are ``results[names_key]`` (or
    ``names``), each routed to the task's token.

    Args:
        task: a registered task name (``visionllm.structures.tasks``).
        names: fixed names to prompt (default: ``results[names_key]``).
        names_key: results key holding the names.
        answer_mode: ``'prompted'`` (answer in the conversation) or ``'free'`` (the LLM writes it).
    """

    def __init__(self, task: str, names: Optional[Sequence[str]] = None, names_key: str = 'class_names',
                 answer_mode: str = 'prompted'):
        from visionllm.structures.tasks import task_spec
        from visionllm.utils.errors import ConfigError
        try:
            self.spec = task_spec(task)
        except KeyError as e:
            raise ConfigError(f'BuildTaskConversation: {e.args[0]}') from None
        if not self.spec.prompt or not self.spec.route:
            raise ConfigError(f'BuildTaskConversation: task {task!r} declares no prompt / route (TaskSpec.prompt, '
                              'TaskSpec.route) for a generic conversation')
        self.names = list(names) if names is not None else None
        self.names_key, self.answer_mode = names_key, answer_mode

    def transform(self, results: dict) -> dict:
        names = self.names if self.names is not None else list(results[self.names_key])
        conv = _conversation(results, self.names_key, lambda: prompts.task_conversation(self.spec, names))
        results.update(class_names=names, task=self.spec.name, answer_mode=self.answer_mode,
                       gt_groups=[(n, self.spec.route) for n in names],
                       messages=conv[:1] if self.answer_mode == 'free' else conv)
        return results
