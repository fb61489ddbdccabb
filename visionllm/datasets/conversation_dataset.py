"""LLaVA-style conversation JSONL (captioning, VQA, chat)."""
import json
import os.path as osp
from typing import List

from mmengine.dataset import BaseDataset

from visionllm.registry import DATASETS
from visionllm.utils.errors import DataFormatError

from .skipping import SkipBadSamplesMixin

ROLES = {'human': 'user', 'user': 'user', 'gpt': 'assistant', 'assistant': 'assistant', 'system': 'system'}


def read_jsonl(path: str) -> List[dict]:
    """Rows of a JSONL file; a bad line raises DataFormatError naming file and line."""
    if not osp.isfile(path):
        raise DataFormatError(f'{path}: annotation file not found')
    rows = []
    with open(path, encoding='utf-8') as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as e:
                raise DataFormatError(f'{path}:{n}: invalid JSON ({e.msg} at column {e.colno})') from None
            if not isinstance(row, dict):
                raise DataFormatError(f'{path}:{n}: expected a JSON object, got {type(row).__name__}')
            row['_line'] = n
            rows.append(row)
    return rows


def to_messages(path: str, row: dict) -> List[dict]:
    """LLaVA ``conversations`` ([{'from', 'value'}]) -> [{'role', 'content'}]."""
    conv = row.get('conversations')
    where = f'{path}:{row["_line"]}'
    if not isinstance(conv, list) or not conv:
        raise DataFormatError(f'{where}: field `conversations` must be a non-empty list of '
                              '{"from": "human"|"gpt", "value": str}')
    out = []
    for k, turn in enumerate(conv):
        role = ROLES.get(turn.get('from')) if isinstance(turn, dict) else None
        if role is None or not isinstance(turn.get('value'), str):
            raise DataFormatError(f'{where}: `conversations[{k}]` must have "from" in {sorted(ROLES)} and a '
                                  f'string "value", got {turn!r:.80}')
        out.append(dict(role=role, content=turn['value']))
    return out


@DATASETS.register_module()
class ConversationDataset(SkipBadSamplesMixin, BaseDataset):
    """Rows ``{"image": rel_path, "conversations": [...], "task"?: str, ...}``.

    In test mode the last assistant turn becomes ``gt_answer`` and is removed from the prompt.

    Args:
        task: task name when rows carry none (``caption``, ``vqa``, ``chat``).
    """

    def __init__(self, *args, task: str = 'chat', **kwargs):
        self.task = task
        super().__init__(*args, **kwargs)

    def load_data_list(self) -> List[dict]:
        rows = read_jsonl(self.ann_file)
        out = []
        for row in rows:
            if not isinstance(row.get('image'), str):
                raise DataFormatError(f'{self.ann_file}:{row["_line"]}: field `image` (relative image path) '
                                      'is missing or not a string')
            messages = to_messages(self.ann_file, row)
            prefix = self.data_prefix.get('img', self.data_prefix.get('img_path', ''))
            info = dict(img_path=osp.join(prefix, row['image']),
                        task=row.get('task', self.task), sample_id=row.get('id', row['_line']),
                        img_id=row.get('image_id'), question_type=row.get('question_type'))
            if self.test_mode and messages[-1]['role'] == 'assistant':
                info['gt_answer'] = messages[-1]['content']
                messages = messages[:-1]
            info['messages'] = messages
            out.append(info)
        return out
