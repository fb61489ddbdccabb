"""Instruction and answer templates of every task (one place, shared by datasets and inferencer).

Answers put the group name right before its routing token and separate groups with ``, `` after a
``: `` lead-in, so the name of every group can be read back from the text (see
``SuperLink.group_name``); names holding a delimiter are escaped (``visionllm.utils.names``).
"""
import zlib
from typing import Optional, Sequence

import numpy as np

from visionllm.utils.names import escape_name

CAPTION_PROMPT = 'Describe the image briefly.'
DET_ANSWER_LEAD = 'Here are the results: '
NO_OBJECT_ANSWER = 'There is nothing to report.'
GEN_ANSWER = 'Here is the image: [GEN].'
EDIT_ANSWER = 'Here is the edited image: [EDIT].'

# Several phrasings of each task's request: (training phrasings, held-out phrasings). The first training
# phrasing is the default (the prompted path, the inferencer, the docs); ``phrasing='train'`` draws among
# the training ones; the held-out ones appear in no training sample and test whether routing follows the
# task's words rather than one memorised sentence (each reuses the task's cue word in a new sentence).
PHRASINGS = dict(
    det=(['Please detect {classes} in the image.', 'Detect {classes}.', 'Can you detect {classes} in this image?',
          'Find every {classes} in the image.', 'Please find {classes} in this image.'],
         ['Can you find {classes} in the image?', 'Detect {classes} in this image, please.']),
    grounding=(['Please locate {expression} in the image.', 'Locate {expression}.',
                'Can you locate {expression} in this image?', 'Where is {expression} in the image?'],
               ['Where is {expression}?', 'Can you locate {expression}, please?']),
    semseg=(['Please segment {classes} in the image.', 'Segment {classes}.',
             'Can you segment {classes} in this image?', 'Please give the masks of {classes} in the image.'],
            ['Segment {classes} in this image, please.', 'Can you give the masks of {classes}?']),
    pose=(['Please find the {keypoints} of each {classes} in the image.', 'Find the {keypoints} of each {classes}.',
           'Can you find the {keypoints} of every {classes} in this image?'],
          ['Please find the {keypoints} of every {classes}.']),
    gen=(['Please draw {text}.', 'Draw {text}.', 'Can you draw {text}?', 'Please make an image of {text}.'],
         ['Draw {text}, please.', 'Can you make an image of {text}?']),
    edit=(['Please edit the image: {instruction}.', 'Edit the image: {instruction}.',
           'Can you edit this image: {instruction}?'],
          ['Edit this image, please: {instruction}.']),
)
PHRASING_MODES = ('default', 'train', 'held_out')
DET_PROMPT = PHRASINGS['det'][0][0]
GRD_PROMPT = PHRASINGS['grounding'][0][0]
SEG_PROMPT = PHRASINGS['semseg'][0][0]
POSE_PROMPT = PHRASINGS['pose'][0][0]
GEN_PROMPT = PHRASINGS['gen'][0][0]
EDIT_PROMPT = PHRASINGS['edit'][0][0]


def phrasing(task: str, mode: str = 'default', key: Optional[str] = None) -> str:
    """A request template of ``task`` (a key of :data:`PHRASINGS`): ``'default'`` the first training one;
    ``'train'`` a random training one (``np.random``: the dataloader worker's seed); ``'held_out'`` one of the
    held-out ones, fixed by ``key`` (e.g. the image path: the same sample gets the same phrasing each run)."""
    if mode not in PHRASING_MODES:
        raise ValueError(f'phrasing mode must be one of {PHRASING_MODES}, got {mode!r}')
    train, held_out = PHRASINGS[task]
    if mode == 'default':
        return train[0]
    if mode == 'train':
        return train[np.random.randint(len(train))]
    return held_out[zlib.crc32(str(key).encode()) % len(held_out)]


def join_names(names: Sequence[str]) -> str:
    """'a, b and c' (names are never empty; escaped, see :func:`visionllm.utils.names.escape_name`)."""
    names = [escape_name(n) for n in names]
    return names[0] if len(names) == 1 else ', '.join(names[:-1]) + ' and ' + names[-1]


def grouped_answer(names: Sequence[str], token: str) -> str:
    """'Here are the results: red circle[DET], blue square[DET].'"""
    return DET_ANSWER_LEAD + ', '.join(f'{escape_name(n)}{token}' for n in names) + '.'


def pose_answer(object_name: str, keypoints: Sequence[str]) -> str:
    """'Here are the results: person[DET], nose[POSE], left eye[POSE].'"""
    return (DET_ANSWER_LEAD + f'{escape_name(object_name)}[DET], '
            + ', '.join(f'{escape_name(k)}[POSE]' for k in keypoints) + '.')


def det_conversation(names: Sequence[str], token: str = '[DET]', template: str = DET_PROMPT) -> list:
    return [dict(role='user', content='<image>\n' + template.format(classes=join_names(names))),
            dict(role='assistant', content=grouped_answer(names, token))]


def grounding_conversation(expression: str, template: str = GRD_PROMPT) -> list:
    return [dict(role='user', content='<image>\n' + template.format(expression=escape_name(expression))),
            dict(role='assistant', content=grouped_answer([expression], '[GRD]'))]


def seg_conversation(names: Sequence[str], template: str = SEG_PROMPT) -> list:
    return [dict(role='user', content='<image>\n' + template.format(classes=join_names(names))),
            dict(role='assistant', content=grouped_answer(names, '[SEG]'))]


def pose_conversation(object_name: str, keypoints: Sequence[str], template: str = POSE_PROMPT) -> list:
    return [dict(role='user', content='<image>\n' + template.format(keypoints=join_names(keypoints),
                                                                     classes=join_names([object_name]))),
            dict(role='assistant', content=pose_answer(object_name, keypoints))]


def gen_conversation(text: str, template: str = GEN_PROMPT) -> list:
    """A text-to-image request (no image; the text's final full stop dropped)."""
    return [dict(role='user', content=template.format(text=text.strip().rstrip('.'))),
            dict(role='assistant', content=GEN_ANSWER)]


def edit_conversation(instruction: str, template: str = EDIT_PROMPT) -> list:
    return [dict(role='user', content='<image>\n' + template.format(instruction=instruction.strip().rstrip('.'))),
            dict(role='assistant', content=EDIT_ANSWER)]


def task_conversation(spec, names: Sequence[str]) -> list:
    """The generic conversation of a registered task (``TaskSpec.prompt`` with ``{names}``; the answer
    routes each name to the task's token), shared by ``BuildTaskConversation`` and the inferencer."""
    if not spec.prompt or not spec.route:
        raise ValueError(f'task {spec.name!r} declares no prompt / route for a generic conversation')
    try:
        prompt = spec.prompt.format(names=join_names(names))
    except (KeyError, IndexError) as e:
        raise ValueError(f'task {spec.name!r}: its prompt {spec.prompt!r} may only use {{names}} ({e})') from None
    return [dict(role='user', content='<image>\n' + prompt),
            dict(role='assistant', content=grouped_answer(names, spec.route))]


# ---- visual prompts: a `<region>` token stands for one region (its embedding is the region encoder's) ------
REGION_TOKEN = '<region>'
REGION_CAPTION_PROMPT = 'What is in {regions}?'
INTERACTIVE_SEG_PROMPT = 'Please segment {regions}.'
DETECT_BY_EXAMPLE_PROMPT = 'Please detect all objects like {regions}.'


def _regions(n: int) -> str:
    return join_names([REGION_TOKEN] * n)


def region_caption_question(num_regions: int) -> dict:
    """The user turn 'What is in <region>?' (the LLM writes the names)."""
    return dict(role='user', content='<image>\n' + REGION_CAPTION_PROMPT.format(regions=_regions(num_regions)))


def region_caption_conversation(names: Sequence[str]) -> list:
    """'What is in <region>?' -> 'red circle.' (one name per region, in region order)."""
    return [region_caption_question(len(names)),
            dict(role='assistant', content=', '.join(escape_name(n) for n in names) + '.')]


def interactive_seg_conversation(num_regions: int) -> list:
    """'Please segment <region>.' -> 'Here are the results: <region>[GRD].': each region is the name of a
    grounding group (one object)."""
    return [dict(role='user', content='<image>\n' + INTERACTIVE_SEG_PROMPT.format(regions=_regions(num_regions))),
            dict(role='assistant', content=grouped_answer([REGION_TOKEN] * num_regions, '[GRD]'))]


def detect_by_example_conversation(num_regions: int) -> list:
    """'Please detect all objects like <region>.' -> 'Here are the results: <region>[DET].': each region is
    the "class" of a detection group (every object like it)."""
    return [dict(role='user', content='<image>\n' + DETECT_BY_EXAMPLE_PROMPT.format(regions=_regions(num_regions))),
            dict(role='assistant', content=grouped_answer([REGION_TOKEN] * num_regions, '[DET]'))]
