"""Text inputs of inference: class-name lists and chat conversations, checked with messages that name the problem."""
from typing import List, Sequence, Union

from mmengine.logging import print_log

from visionllm.utils.errors import PromptError
from visionllm.utils.names import name_problem


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
