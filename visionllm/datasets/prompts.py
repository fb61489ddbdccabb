"""Instruction and answer templates of every task (one place, shared by datasets and inferencer).

Answers put the group name right before its routing token and separate groups with ``, `` after a
``: `` lead-in, so the name of every group can be read back from the text (see
``SuperLink.group_name``); names holding a delimiter are escaped (``visionllm.utils.names``).
"""
from typing import Sequence

from visionllm.utils.names import escape_name

CAPTION_PROMPT = 'Describe the image briefly.'
DET_PROMPT = 'Please detect {classes} in the image.'
DET_ANSWER_LEAD = 'Here are the results: '
GRD_PROMPT = 'Please locate {expression} in the image.'
SEG_PROMPT = 'Please segment {classes} in the image.'
POSE_PROMPT = 'Please find the {keypoints} of each {classes} in the image.'
GEN_PROMPT = 'Please draw {text}.'
EDIT_PROMPT = 'Please edit the image: {instruction}.'
NO_OBJECT_ANSWER = 'There is nothing to report.'
GEN_ANSWER = 'Here is the image: [GEN].'
EDIT_ANSWER = 'Here is the edited image: [EDIT].'


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


def det_conversation(names: Sequence[str], token: str = '[DET]') -> list:
    return [dict(role='user', content='<image>\n' + DET_PROMPT.format(classes=join_names(names))),
            dict(role='assistant', content=grouped_answer(names, token))]


def grounding_conversation(expression: str) -> list:
    return [dict(role='user', content='<image>\n' + GRD_PROMPT.format(expression=escape_name(expression))),
            dict(role='assistant', content=grouped_answer([expression], '[GRD]'))]


def seg_conversation(names: Sequence[str]) -> list:
    return [dict(role='user', content='<image>\n' + SEG_PROMPT.format(classes=join_names(names))),
            dict(role='assistant', content=grouped_answer(names, '[SEG]'))]


def pose_conversation(object_name: str, keypoints: Sequence[str]) -> list:
    return [dict(role='user', content='<image>\n' + POSE_PROMPT.format(keypoints=join_names(keypoints),
                                                                        classes=join_names([object_name]))),
            dict(role='assistant', content=pose_answer(object_name, keypoints))]


def gen_conversation(text: str) -> list:
    """A text-to-image request (no image; the text's final full stop dropped)."""
    return [dict(role='user', content=GEN_PROMPT.format(text=text.strip().rstrip('.'))),
            dict(role='assistant', content=GEN_ANSWER)]


def edit_conversation(instruction: str) -> list:
    return [dict(role='user', content='<image>\n' + EDIT_PROMPT.format(instruction=instruction.strip().rstrip('.'))),
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
