"""Request phrasings (training / held out) and random request lengths of the free path."""
import numpy as np
import pytest

from visionllm.datasets import prompts
from visionllm.datasets.transforms.prompts import (
    BuildDetectionConversation,
    BuildGroundingConversation,
    BuildSegmentationConversation,
)
from visionllm.utils.errors import ConfigError

NAMES = [f'{c} {s}' for c in ('red', 'green', 'blue', 'yellow', 'purple', 'orange')
         for s in ('circle', 'square', 'triangle', 'star', 'cross')]


def _user_text(results: dict) -> str:
    return results['messages'][0]['content'].split('\n', 1)[1]


def _template_of(text: str, templates, **fields) -> str:
    """The template among ``templates`` that wrote ``text``."""
    found = [t for t in templates if t.format(**fields) == text]
    assert len(found) == 1, (text, found)
    return found[0]


def test_phrasing_modes():
    for task, (train, held_out) in prompts.PHRASINGS.items():
        assert not set(train) & set(held_out), task
        assert prompts.phrasing(task) == train[0]
        np.random.seed(0)
        assert {prompts.phrasing(task, 'train') for _ in range(200)} == set(train)
        picks = {prompts.phrasing(task, 'held_out', f'img{i}.png') for i in range(50)}
        assert picks == set(held_out)
        assert prompts.phrasing(task, 'held_out', 'a.png') == prompts.phrasing(task, 'held_out', 'a.png')
    assert prompts.DET_PROMPT == prompts.PHRASINGS['det'][0][0]
    with pytest.raises(ValueError, match='phrasing mode'):
        prompts.phrasing('det', 'unseen')
    with pytest.raises(ConfigError, match='phrasing must be one of'):
        BuildDetectionConversation(phrasing='other')


def _det_results(path: str, labels=(0, 7)) -> dict:
    return dict(img_path=path, dataset_classes=NAMES, gt_bboxes_labels=np.array(labels, np.int64),
                gt_bboxes=np.zeros((len(labels), 4), np.float32))


def test_training_requests_draw_training_phrasings_and_every_length():
    t = BuildDetectionConversation(max_classes=30, p_all=0.3, num_negatives=(0, 24), phrasing='train',
                                   classes=NAMES[:25])
    train, held_out = prompts.PHRASINGS['det']
    np.random.seed(0)
    lengths, used = set(), set()
    for i in range(300):
        r = t.transform(_det_results(f'{i}.png'))
        lengths.add(len(r['class_names']))
        used.add(_template_of(_user_text(r), train + held_out, classes=prompts.join_names(r['class_names'])))
        assert {NAMES[0], NAMES[7]} <= set(r['class_names'])  # the positives are always asked for
        assert r['phrasing'] == 'train'
    assert used == set(train)
    assert lengths == set(range(2, 26))  # two positives: 2..25 names


def test_held_out_requests_of_random_length():
    t = BuildDetectionConversation(test_mode=True, answer_mode='free', phrasing='held_out', request_sizes=(1, 30))
    held_out = prompts.PHRASINGS['det'][1]
    sizes = []
    for i in range(200):
        r = t.transform(_det_results(f'img/{i:06d}.png'))
        names = r['class_names']
        sizes.append(len(names))
        assert len(set(names)) == len(names) and set(names) <= set(NAMES)
        assert [n for n, _ in r['gt_groups']] == names and len(r['messages']) == 1  # free: the user turn only
        _template_of(_user_text(r), held_out, classes=prompts.join_names(names))
        # the ground truth follows the request: an object whose name is not asked for is not a target
        asked = [NAMES[i] for i in (0, 7) if NAMES[i] in names]
        assert [names[k] for k in r['gt_bboxes_labels']] == asked
    assert min(sizes) == 1 and max(sizes) == 30 and len(set(sizes)) > 20
    again = t.transform(_det_results('img/000003.png'))
    assert again['class_names'] == t.transform(_det_results('img/000003.png'))['class_names']
    with pytest.raises(ConfigError, match='request_sizes'):
        BuildDetectionConversation(request_sizes=(1, 30))  # training requests have their own sampling


def test_grounding_and_segmentation_phrasings():
    held_out = prompts.PHRASINGS['grounding'][1]
    r = BuildGroundingConversation(answer_mode='free', phrasing='held_out').transform(
        dict(img_path='x.png', expression='the red circle'))
    _template_of(_user_text(r), held_out, expression='the red circle')
    assert r['phrasing'] == 'held_out' and r['gt_groups'] == [('the red circle', '[GRD]')]
    seg = BuildSegmentationConversation(test_mode=True, phrasing='held_out').transform(
        dict(img_path='y.png', dataset_classes=['sky', 'road'], gt_seg_map=np.zeros((4, 4), np.uint8)))
    _template_of(_user_text(seg), prompts.PHRASINGS['semseg'][1], classes='sky and road')
