"""The no-LLM VQA yardstick: a classifier over the generalist's image path, built and run by the Runner."""
import json

import pytest
import torch
from mmengine.runner import Runner

from tests.conftest import tiny_config
from visionllm.models.answer_classifier import read_answers
from visionllm.utils.errors import DataFormatError

CFG = 'configs/visionllm/answer-classifier-tiny{}_vqa_1xb8-2k_synthetic.py'


def fit(model, data: dict, loss_key: str, param, steps: int) -> None:
    """``steps`` AdamW steps on one batch; ``param`` (a part of the input path) must change."""
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=3e-3)
    before = param.detach().clone()
    for _ in range(steps):
        loss = model(**data, mode='loss')[loss_key]
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert not torch.equal(param, before)  # the input path is trained
    model.eval()


@pytest.mark.parametrize('image_path', ['', '-resnet'])
def test_classifier_learns_its_batch_and_answers_through_the_evaluator(image_path, synth_root, tokenizer_dir,
                                                                       tmp_path):
    cfg = tiny_config(CFG.format(image_path), synth_root, tokenizer_dir, str(tmp_path))
    cfg.train_dataloader.batch_size = 8
    runner = Runner.from_cfg(cfg)
    model = runner.model
    assert model.answers == read_answers(f'{synth_root}/conversations/vqa_train.jsonl')
    loader = Runner.build_dataloader(cfg.train_dataloader)
    batch = next(b for b in loader if sum(s.task == 'vqa' for s in b['data_samples']) >= 3)
    data = model.data_preprocessor(batch, True)
    vqa = [s for s in data['data_samples'] if s.task == 'vqa']
    vision = model.backbone.conv1.weight if image_path else \
        model.mllm.model.model.vision_tower.embeddings.patch_embeddings.projection.weight
    fit(model, data, 'vqa.loss', vision, 60)  # the batch's answers are learnt: labels, question and image reach them
    out = model(**data, mode='predict')
    assert [s.pred_text for s in out if s.task == 'vqa'] == [s.messages[-1]['content'] for s in vqa]
    assert all('pred_text' not in s for s in out if s.task != 'vqa')  # captions pass through
    metrics = runner.test()  # tools/test.py's path: every VQA sample of the split answered, one of the classes
    assert 'vqa/accuracy' in metrics and 'caption/object_f1' not in metrics


def test_region_classifier_names_the_regions_it_learnt(synth_root, tokenizer_dir, tmp_path):
    """Region recognition: a region token from the generalist's region encoder, the training file's names as
    classes; learnt on a batch of test regions, then scored by RegionRecognitionAccuracy as tools/test.py does."""
    from mmengine.evaluator import Evaluator
    cfg = tiny_config('configs/visionllm/answer-classifier-tiny_region_1xb8-1.8k_synthetic.py', synth_root,
                      tokenizer_dir, str(tmp_path))
    cfg.test_dataloader.batch_size = 4
    model = Runner.from_cfg(cfg).model
    with open(f'{synth_root}/annotations/instances_train.json') as f:
        assert model.answers == sorted(c['name'] for c in json.load(f)['categories'])
    batch = model.data_preprocessor(next(iter(Runner.build_dataloader(cfg.test_dataloader))), True)
    seen = [s.region_names[0] in model.answers for s in batch['data_samples']]  # held-out names: no class
    assert any(seen)
    fit(model, batch, 'region-caption.loss', model.region_encoder.stem4[0][0].weight, 100)
    out = model(**batch, mode='predict')
    assert all(s.pred_text == s.region_names[0] for s, ok in zip(out, seen) if ok)
    evaluator = Evaluator(cfg.test_evaluator)
    evaluator.process(out, batch)
    metrics = evaluator.evaluate(len(out))
    assert metrics['region/seen_accuracy'] == 1.0 and metrics['region/accuracy'] == sum(seen) / len(seen)


def test_answers_file_errors(tmp_path):
    bad = tmp_path / 'bad.jsonl'
    bad.write_text(json.dumps({'image': 'a.png', 'conversations': [{'from': 'human', 'value': 'q'}]}) + '\n')
    with pytest.raises(DataFormatError, match='bad.jsonl:1: `conversations` must end with an assistant turn'):
        read_answers(str(bad))
    empty = tmp_path / 'empty.jsonl'
    empty.write_text('\n')
    with pytest.raises(DataFormatError, match='no answers found'):
        read_answers(str(empty))
