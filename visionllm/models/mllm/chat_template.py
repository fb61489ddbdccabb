"""Chat template (InternVL2.5 / Qwen2 ``im_start`` style) with assistant-only labels.

``<|im_start|>{role}\\n{content}<|im_end|>\\n`` per turn; ``<image>`` in a user turn becomes
``<img>`` + ``<IMG_CONTEXT>`` x num_image_tokens + ``</img>``. Labels are -100 everywhere except the
assistant contents and their closing ``<|im_end|>``. Text a user types is tokenized literally: a
``[DET]`` or ``<|im_end|>`` in a question is text, never a routing token or a turn boundary; only the
``placeholders`` the model declares (``<region>``: a visual prompt) become their tokens there.
"""
from typing import List, Optional, Sequence, Tuple

from visionllm.utils.errors import PromptError

IGNORE_INDEX = -100
IMAGE_PLACEHOLDER = '<image>'


class ChatTemplate:
    """Encode conversations to (input_ids, labels) with a given tokenizer.

    Args:
        answer_space: tokenize each assistant answer after a space (``' red circle.'``), so that with a
            byte-level BPE without prefix space its first word is spelled with the same tokens as everywhere
            else in the text (``Ġred``, not ``re`` ``d``); decoded answers are stripped. For a tokenizer trained
            here from scratch; a pretrained LLM keeps its own template (False).
    """

    def __init__(self, tokenizer, system: Optional[str] = 'You are a helpful assistant.',
                 placeholders: Sequence[str] = (), answer_space: bool = False):
        self.tok = tokenizer
        self.system = system
        self.answer_space = answer_space
        self.placeholders = {p: tokenizer.convert_tokens_to_ids(p) for p in placeholders}
        ids = tokenizer.convert_tokens_to_ids
        self.im_start, self.im_end = ids('<|im_start|>'), ids('<|im_end|>')
        self.img_start, self.img_end, self.img_context = ids('<img>'), ids('</img>'), ids('<IMG_CONTEXT>')
        self._nl = self._text('\n')
        self._role_ids = {r: [self.im_start] + self._text(f'{r}\n') for r in ('system', 'user', 'assistant')}

    def _text(self, text: str, literal: bool = False) -> List[int]:
        """Token ids of ``text``; ``literal``: special tokens written in it are plain text."""
        if not text:
            return []
        return self.tok(text, add_special_tokens=False, split_special_tokens=literal).input_ids

    def _user_content(self, content: str, num_image_tokens: int) -> List[int]:
        parts = content.split(IMAGE_PLACEHOLDER)
        if len(parts) > 2:
            raise PromptError(f'a message has {len(parts) - 1} `<image>` placeholders; one is supported')
        ids = self._literal(parts[0])
        if len(parts) == 2:
            ids += [self.img_start] + [self.img_context] * num_image_tokens + [self.img_end]
            ids += self._literal(parts[1])
        return ids

    def _literal(self, text: str) -> List[int]:
        """A user's text tokenized literally, except the declared placeholders (e.g. ``<region>``)."""
        pieces = [(text, None)]
        for p, pid in self.placeholders.items():
            split = []
            for t, tid in pieces:
                if tid is not None:
                    split.append((t, tid))
                    continue
                for k, part in enumerate(t.split(p)):
                    if k:
                        split.append((p, pid))
                    split.append((part, None))
            pieces = split
        return [i for t, tid in pieces for i in ([tid] if tid is not None else self._text(t, literal=True))]

    def encode(self, messages: Sequence[dict], num_image_tokens: int = 0,
               add_generation_prompt: bool = False) -> Tuple[List[int], List[int]]:
        """Returns (input_ids, labels) of the whole conversation.

        With ``add_generation_prompt`` the sequence ends with ``<|im_start|>assistant\\n`` (for
        generation); a final assistant turn, if any, is then encoded without its ``<|im_end|>``
        so generation continues it.
        """
        ids: List[int] = []
        labels: List[int] = []

        def add(tokens, learn):
            ids.extend(tokens)
            labels.extend(tokens if learn else [IGNORE_INDEX] * len(tokens))

        if self.system:
            add(self._role_ids['system'] + self._text(self.system) + [self.im_end] + self._nl, False)
        n_img = sum(m['content'].count(IMAGE_PLACEHOLDER) for m in messages)
        if n_img == 0 and num_image_tokens:
            raise PromptError('image features were given but no message contains `<image>`')
        for k, m in enumerate(messages):
            role, content = m.get('role'), m.get('content')
            if role not in ('user', 'assistant', 'system') or not isinstance(content, str):
                raise PromptError(f'message {k}: expected role user/assistant/system and str content, '
                                  f'got role={role!r} content={type(content).__name__}')
            if role == 'assistant':
                last_open = add_generation_prompt and k == len(messages) - 1
                add(self._role_ids['assistant'], False)
                if self.answer_space and content and not content[0].isspace():
                    content = ' ' + content
                add(self._text(content) + ([] if last_open else [self.im_end]), True)
                if not last_open:
                    add(self._nl, False)
            else:
                body = self._user_content(content, num_image_tokens) if role == 'user' else self._text(content)
                add(self._role_ids[role] + body + [self.im_end] + self._nl, False)
        if add_generation_prompt and (not messages or messages[-1]['role'] != 'assistant'):
            add(self._role_ids['assistant'], False)
        return ids, labels
