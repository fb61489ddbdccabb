"""Transforms that write a task's conversation from its annotations."""
from typing import Optional, Sequence

import numpy as np
from mmcv.transforms import BaseTransform

from visionllm.datasets import prompts
from visionllm.registry import TRANSFORMS


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
    shuffled; at most ``max_classes`` (positives beyond that are dropped with their boxes). Test:
    all dataset classes in dataset order. The class order defines the label index: gt labels are
    remapped to positions in ``class_names``.

    Args:
        answer_mode: ``'prompted'`` (the answer template with routing tokens is part of the input,
            one forward) or ``'free'`` (the LLM must generate it; ``gt_groups`` holds the expected
            (name, routing token) pairs for the routing metric).
        classes: restrict prompts to these names (default: the dataset's classes).
    """

    def __init__(self, test_mode: bool = False, max_classes: int = 30, p_all: float = 0.2,
                 num_negatives: Sequence[int] = (1, 8), answer_mode: str = 'prompted',
                 routing_token: str = '[DET]', classes: Optional[Sequence[str]] = None):
        assert answer_mode in ('prompted', 'free'), f'answer_mode must be prompted or free, got {answer_mode}'
        self.test_mode, self.max_classes, self.p_all = test_mode, max_classes, p_all
        self.num_negatives = tuple(num_negatives)
        self.answer_mode, self.routing_token = answer_mode, routing_token
        self.classes = list(classes) if classes else None

    def _choose(self, all_names, pos_names):
        rng = np.random
        if self.test_mode:
            return list(all_names)
        if rng.rand() < self.p_all and len(all_names) <= self.max_classes:
            chosen = list(all_names)
        else:
            negs = [n for n in all_names if n not in pos_names]
            k = min(len(negs), rng.randint(self.num_negatives[0], self.num_negatives[1] + 1))
            chosen = list(pos_names) + [negs[i] for i in rng.choice(len(negs), k, replace=False)]
        rng.shuffle(chosen)
        return chosen[:self.max_classes]

    def transform(self, results: dict) -> dict:
        if 'gt_ignore_flags' in results:  # crowd regions are not objects to name
            _keep(results, ~np.asarray(results['gt_ignore_flags'], bool))
        dataset_names = list(results['dataset_classes'])
        names = self.classes or dataset_names
        labels = np.asarray(results.get('gt_bboxes_labels', np.zeros(0, np.int64)))
        gt_names = [dataset_names[i] for i in labels]
        pos = list(dict.fromkeys(n for n in gt_names if n in names))
        chosen = self._choose(names, pos)
        index = {n: i for i, n in enumerate(chosen)}
        keep = np.array([n in index for n in gt_names], bool)
        _keep(results, keep)
        results['gt_bboxes_labels'] = np.array([index[n] for n, k in zip(gt_names, keep) if k], np.int64)
        results['class_names'] = chosen
        results['task'] = 'det'
        conv = prompts.det_conversation(chosen, self.routing_token)
        results['gt_groups'] = [(n, self.routing_token) for n in chosen]
        results['messages'] = conv[:1] if self.answer_mode == 'free' else conv
        results['answer_mode'] = self.answer_mode
        return results


@TRANSFORMS.register_module()
class BuildGroundingConversation(BaseTransform):
    """Referring expression -> ``Please locate <expr> ...`` / ``Here are the results: <expr>[GRD].``
    with one group (the expression) and the referred object as label 0."""

    def __init__(self, answer_mode: str = 'prompted'):
        assert answer_mode in ('prompted', 'free')
        self.answer_mode = answer_mode

    def transform(self, results: dict) -> dict:
        expr = results['expression']
        conv = prompts.grounding_conversation(expr)
        results.update(class_names=[expr], task='grounding', answer_mode=self.answer_mode,
                       gt_groups=[(expr, '[GRD]')], messages=conv[:1] if self.answer_mode == 'free' else conv)
        return results
