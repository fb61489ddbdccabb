"""Tokenizer handling: load from a checkpoint directory, or train a small offline BPE.

No tokenizer files are ever downloaded. Full-size configs load the tokenizer shipped with a local
InternVL checkpoint; tiny configs train a byte-level BPE on the embedded data's vocabulary (fast,
deterministic) and save it as a normal HF tokenizer directory that ``AutoTokenizer`` loads.
"""
import os
import os.path as osp
import shutil
import tempfile
from itertools import product
from typing import Iterator, List, Sequence

from visionllm.utils.errors import ConfigError

CHAT_TOKENS = ['<|endoftext|>', '<|im_start|>', '<|im_end|>']
IMAGE_TOKENS = ['<img>', '</img>', '<IMG_CONTEXT>']


def synthetic_corpus() -> Iterator[str]:
    """Sentences of every template of the embedded data (held-out names excluded)."""
    from visionllm.datasets import prompts
    from visionllm.datasets.synthetic import text
    from visionllm.datasets.synthetic import vocabulary as V
    names = V.seen_categories()
    yield from [prompts.CAPTION_PROMPT, prompts.NO_OBJECT_ANSWER, 'You are a helpful assistant.',
                'system user assistant']
    for c, s in product(V.COLOURS, V.SHAPES):
        if f'{c} {s}' not in names:
            continue
        for n in range(1, 6):
            yield text.count_phrase(n, c, s).capitalize() + '.'
        yield f'How many {c} {V.plural(s)} are there?'
        yield f'Is there {text.a(c + " " + s)}?'
        yield f'What colour is the {s}? What shape is the {c} object? What is the leftmost object?'
        yield f'the leftmost {c} {s} and the rightmost {c} {s}; make the {c} {s} red; remove the {c} {s}'
        yield prompts.DET_PROMPT.format(classes=prompts.join_names([f'{c} {s}', 'red circle']))
        yield prompts.grouped_answer([f'{c} {s}', 'blue square'], '')
        yield prompts.GRD_PROMPT.format(expression=f'the {c} {s}')
        yield prompts.SEG_PROMPT.format(classes=f'{c} {s}')
        yield prompts.GEN_PROMPT.format(text=f'{text.a(c + " " + s)} above a red circle, left of, below, right of')
        yield prompts.EDIT_PROMPT.format(instruction=f'make the {c} {s} blue')
        yield prompts.POSE_PROMPT.format(keypoints=prompts.join_names(V.KEYPOINTS), classes=f'{c} {s}')
    yield ' '.join(['yes', 'no'] + [str(i) for i in range(10)] + V.NUMBER_WORDS)


def train_bpe_tokenizer(save_dir: str, corpus: Sequence[str], vocab_size: int = 1024):
    """Train a byte-level BPE on ``corpus`` and save it to ``save_dir`` (atomically)."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=CHAT_TOKENS, show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(list(corpus), trainer)
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, eos_token='<|im_end|>', pad_token='<|endoftext|>')
    parent = osp.dirname(osp.abspath(save_dir))
    os.makedirs(parent, exist_ok=True)
    tmp = tempfile.mkdtemp(dir=parent)
    fast.save_pretrained(tmp)
    try:
        os.replace(tmp, save_dir)
    except OSError:  # another process won the race
        shutil.rmtree(tmp, ignore_errors=True)
    return fast


def build_tokenizer(path: str, special_tokens: Sequence[str] = (), train_if_missing: bool = False,
                    vocab_size: int = 1024):
    """Load the tokenizer at ``path`` (or train the offline BPE there) and add ``special_tokens``.

    Returns the tokenizer; every token of ``special_tokens`` is then a single special id.
    """
    from transformers import AutoTokenizer
    has_files = osp.isdir(path) and any(
        osp.exists(osp.join(path, f)) for f in ('tokenizer.json', 'tokenizer_config.json', 'vocab.json'))
    if not has_files:
        if not train_if_missing:
            raise ConfigError(f'tokenizer path {path!r} has no tokenizer files (tokenizer.json / '
                              'tokenizer_config.json); point `tokenizer.path` at a local checkpoint '
                              'directory or set `train_if_missing=True` for the offline BPE')
        train_bpe_tokenizer(path, synthetic_corpus(), vocab_size)
    tok = AutoTokenizer.from_pretrained(path)
    if tok.pad_token is None:
        tok.pad_token = tok.eos_token
    missing: List[str] = [t for t in (*CHAT_TOKENS, *IMAGE_TOKENS, *special_tokens)
                          if t not in tok.get_vocab()]
    if missing:
        tok.add_special_tokens({'additional_special_tokens': missing}, replace_extra_special_tokens=False)
    for t in special_tokens:
        ids = tok(t, add_special_tokens=False).input_ids
        if len(ids) != 1:
            raise ConfigError(f'special token {t!r} does not map to one id in tokenizer {path!r}: {ids}')
    return tok
