import json
import os.path as osp
from contextlib import contextmanager

import numpy as np
import pytest

from tests.conftest import tiny_config
from visionllm.apis import VisionLLMInferencer, parse_texts
from visionllm.apis.text_inputs import conversation
from visionllm.utils.errors import PromptError

DET_CFG = 'configs/visionllm/visionllm_internvl-tiny_det_1xb8-2k_synthetic.py'


@pytest.fixture(scope='module')
def inferencer(synth_root, tokenizer_dir, tmp_path_factory):
    cfg = tiny_config(DET_CFG, synth_root, tokenizer_dir, str(tmp_path_factory.mktemp('inf')))
    cfg.model.decoders.det.test_cfg.max_per_img = 5
    return VisionLLMInferencer(cfg, max_classes_per_prompt=2)


def test_parse_texts(log_records):
    assert parse_texts('red circle . blue square .') == ['red circle', 'blue square']
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter('error')  # one logged line, not a Python warning
        assert parse_texts(['a', 'a', 'b']) == ['a', 'b']
    assert [r.getMessage() for r in log_records] == ['duplicate class names dropped: a']
    for bad in ('', ' . ', None):
        with pytest.raises(PromptError):
            parse_texts(bad)
    assert parse_texts(['left guy, blue shirt', 'ratio 3:4']) == ['left guy, blue shirt', 'ratio 3:4']  # escaped
    with pytest.raises(PromptError, match=r"contains '\['.*not allowed"):
        parse_texts('a [DET] b')


def test_detect_batched_chunked_writes_files(inferencer, synth_root, tmp_path):
    imgs = osp.join(synth_root, 'images/val')
    out = inferencer(imgs, texts='red circle . blue square . purple star', batch_size=4, pred_score_thr=0.0,
                     out_dir=str(tmp_path), return_vis=True)
    assert len(out['predictions']) == 8 == len(out['visualization'])
    p = out['predictions'][0]
    # 3 names in chunks of 2 -> 2 prompts per image, 5 detections each
    assert len(p['label_names']) == 10 and set(p['label_names']) <= {'red circle', 'blue square', 'purple star'}
    assert len(p['masks']) == 10 and all(len(b) == 4 for b in p['bboxes'])
    assert max(max(b) for b in p['bboxes']) <= 96  # original image coordinates
    with open(tmp_path / 'preds' / '000000.json') as f:
        assert json.load(f)['label_names'] == p['label_names']
    assert osp.exists(tmp_path / 'vis' / '000000.png')


def test_free_mode_and_arrays_and_chat(inferencer):
    img = np.zeros((80, 100, 3), np.uint8)
    out = inferencer([img, img], texts='red circle', free=True, batch_size=2, pred_score_thr=0.0)
    assert len(out['predictions']) == 2 and 'text' in out['predictions'][0]
    answer = inferencer.chat(img, 'How many red circles are there?', max_new_tokens=4)
    assert isinstance(answer, str)
    assert inferencer.model.test_cfg['max_new_tokens'] != 4  # a per-call setting only
    res = inferencer.chat(img, 'Please detect red circle in the image.', max_new_tokens=6, return_dict=True)
    assert set(res) == {'text', 'routes', 'outputs', 'predictions'} and '[DET]' not in res['text']
    assert (res['predictions'] is None) == (not res['routes'])
    with pytest.raises(PromptError, match='no such image'):
        inferencer('missing.png', texts='a')


def _last_logits(inf, img, conv):
    """The LLM's next-token logits [V] after a conversation (the model's tensor mode on the real pipeline)."""
    import torch
    from mmengine.dataset import pseudo_collate
    item = inf._prepare(inf._load_one(img), conversation(conv), task='chat')
    with torch.no_grad():
        data = inf.model.data_preprocessor(pseudo_collate([item]), False)
        return inf.model(**data, mode='tensor')[0, -1]


@contextmanager
def _talking(inferencer):
    """The random-weight inferencer with its own seeded output layer (not tied to the input embeddings, whose
    random model repeats its last input token: a newline) and the end-of-answer logit held at 0, so that
    answers have visible tokens. Its logits are small (a spread next-token distribution), so that answers
    sampled with different seeds differ whatever the random weights of the rest."""
    import torch
    head = inferencer.model.mllm.model.lm_head
    tied = head.weight
    w = torch.randn(tied.shape, generator=torch.Generator().manual_seed(0)) * 0.05
    w[inferencer.model.tokenizer.eos_token_id] = 0
    head.weight = torch.nn.Parameter(w)
    try:
        yield inferencer
    finally:
        head.weight = tied


@pytest.fixture
def talkative(inferencer):
    with _talking(inferencer):
        yield inferencer


def test_multi_round_chat_sampling_streaming(talkative):
    import torch
    inferencer = talkative
    img = np.random.default_rng(0).integers(0, 255, (80, 100, 3), dtype=np.uint8)
    history = [dict(role='user', content='How many red circles are there?'),
               dict(role='assistant', content='There are 2 red circles.'),
               dict(role='user', content='And how many blue squares?')]
    greedy = inferencer.chat(img, history, max_new_tokens=6)
    assert greedy and greedy == inferencer.chat(img, history, max_new_tokens=6)  # greedy is deterministic
    # the earlier turns (and the image, placed before the first question) are in the model's context
    with_history, alone = _last_logits(inferencer, img, history), _last_logits(inferencer, img, history[-1:])
    assert not torch.allclose(with_history, alone)
    # sampling: reproducible with a seed, different across seeds
    opts = dict(max_new_tokens=8, do_sample=True, temperature=1.5, top_k=50, top_p=0.95)
    a = inferencer.chat(img, history, seed=1, **opts)
    assert a == inferencer.chat(img, history, seed=1, **opts)
    assert a != inferencer.chat(img, history, seed=2, **opts)
    assert 'generation' not in inferencer.model.test_cfg  # per-call settings only
    # streaming: growing partial answers, then the full result
    chunks = list(inferencer.chat_stream(img, history, max_new_tokens=6))
    assert len(chunks) >= 2 and [c['done'] for c in chunks] == [False] * (len(chunks) - 1) + [True]
    assert chunks[-1]['text'] == greedy and greedy.startswith(chunks[-2]['text'].strip())
    # beam search: deterministic; with one beam it is greedy generation, re-reading every step's sequence with
    # its query slots inserted (no KV cache): the same answer as the cached greedy path
    beams = inferencer.chat(img, history, max_new_tokens=6, num_beams=3)
    assert beams == inferencer.chat(img, history, max_new_tokens=6, num_beams=3)
    from mmengine.dataset import pseudo_collate

    from visionllm.models.superlink import GenerationOptions
    model = inferencer.model
    sample_inputs = inferencer._prepare(inferencer._load_one(img), conversation(history), task='chat')
    data = model.data_preprocessor(pseudo_collate([sample_inputs]), False)
    s = data['data_samples'][0]
    with torch.no_grad():
        model._beam_predict(s, int(data['inputs']['num_tiles'][0]), data['inputs']['pixel_values'],
                            GenerationOptions(num_beams=1), max_new_tokens=6)
    from visionllm.evaluation import strip_routes
    assert strip_routes(s.pred_text, list(model.superlink.token_to_family)) == greedy
    for bad, match in [(dict(temperature=0), 'temperature'), (dict(top_p=1.5), 'top_p'),
                       (dict(num_beams=2, do_sample=True), 'beam search'), (dict(num_beams=0), 'num_beams')]:
        with pytest.raises(PromptError, match=match):
            inferencer.chat(img, history, **bad)
    for conv, match in [(history[:2], 'end with a user turn'), ([], 'empty conversation'),
                        (history[1:], 'message 0'), ([dict(role='user', content=' ')], 'empty')]:
        with pytest.raises(PromptError, match=match):
            inferencer.chat(img, conv)


@pytest.fixture(scope='module')
def all_tasks(synth_root, tokenizer_dir, tmp_path_factory):
    """An inferencer over the joint config: every decoder family (random weights)."""
    cfg = tiny_config('configs/visionllm/visionllm_internvl-tiny_stage2-joint_1xb8-3k_synthetic.py', synth_root,
                      tokenizer_dir, str(tmp_path_factory.mktemp('all')))
    for fam in ('gen', 'edit'):
        cfg.model.decoders[fam].test_cfg.num_inference_steps = 2
    cfg.model.decoders.pose.test_cfg.score_thr = 0.0
    return VisionLLMInferencer(cfg)


def test_segment_pose_generate_edit(all_tasks, synth_root, tmp_path):
    img = osp.join(synth_root, 'images/val/000001.png')
    seg = all_tasks.segment(img, 'background . red circle . blue star', out_dir=str(tmp_path))
    assert seg[0]['label_map'].shape == (96, 96) and seg[0]['label_map'].max() < 3
    assert osp.exists(tmp_path / 'vis' / '000001.png')
    skipped: list = []  # a folder one image at a time: the second is read only when the first is taken
    (tmp_path / 'broken.png').write_bytes(b'not a picture')
    maps = all_tasks.iter_segment([img, str(tmp_path / 'broken.png'), img], 'background . red circle',
                                  skip_errors=True, skipped=skipped)
    assert next(maps)['label_map'].shape == (96, 96) and skipped == []
    assert len(list(maps)) == 1 and [s['image'] for s in skipped] == [str(tmp_path / 'broken.png')]
    pose = all_tasks.pose([img, img], 'shape', 'top . center', batch_size=2, pred_score_thr=0.0,
                          skeleton=[('center', 'top')], out_dir=str(tmp_path / 'p'))
    assert len(pose) == 2 and pose[0]['keypoint_names'] == ['top', 'center']
    assert len(pose[0]['keypoints']) == len(pose[0]['bboxes']) > 0 and len(pose[0]['keypoints'][0]) == 2
    images = all_tasks.generate(['a red circle above a blue square', 'a green star'], seed=1)
    assert len(images) == 2 and images[0].shape == (64, 64, 3) and images[0].dtype == np.uint8
    edited = all_tasks.edit(img, 'make the red circle blue')
    assert edited.shape == (64, 64, 3)
    with pytest.raises(PromptError, match='needs an image'):
        all_tasks.edit(None, 'make it blue')
    with pytest.raises(PromptError, match='empty generation prompt'):
        all_tasks.generate(' ')


def _comparable(value):
    """Results with arrays as lists (RLE masks, label maps, pictures compare exactly)."""
    if isinstance(value, dict):
        return {k: _comparable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_comparable(v) for v in value]
    return value.tolist() if isinstance(value, np.ndarray) else value


def test_overlapping_requests_answer_as_alone_and_change_nothing(all_tasks, synth_root):
    """Requests with different options from several threads at once (detect prompted and free, chat sampled,
    streamed and by beam search, segment, pose, generate): each result equals the same request made alone, and
    the model's settings are what they were."""
    import copy
    from concurrent.futures import ThreadPoolExecutor
    inf = all_tasks
    img = osp.join(synth_root, 'images/val/000001.png')
    q = 'How many red circles are there?'
    names = 'red circle . blue square'
    requests = dict(
        detect=lambda: inf(img, texts=names, pred_score_thr=0.0, return_vis=True),
        detect_free=lambda: inf(img, texts=names, free=True, pred_score_thr=0.05),
        chat_sampled=lambda: inf.chat(img, q, max_new_tokens=10, do_sample=True, temperature=1.5, seed=3),
        chat_streamed=lambda: [c['text'] for c in inf.chat_stream(img, q, max_new_tokens=10)],
        chat_beams=lambda: inf.chat(img, q, max_new_tokens=5, num_beams=2),
        segment=lambda: inf.segment(img, 'background . red circle', return_vis=True),
        pose=lambda: inf.pose(img, 'shape', 'top . center', pred_score_thr=0.2),
        generate=lambda: inf.generate('a red circle', seed=5, num_inference_steps=3),
    )

    def settings():
        return copy.deepcopy([inf.model.test_cfg] + [getattr(d, 'test_cfg', None) for d in inf.model.decoders.values()])
    before = settings()
    with _talking(inf):
        alone = {k: _comparable(fn()) for k, fn in requests.items()}
        assert alone['chat_streamed'][-1] and alone['chat_sampled'] != alone['chat_streamed'][-1]
        order = list(requests) * 2
        with ThreadPoolExecutor(len(order)) as pool:
            futures = [(k, pool.submit(requests[k])) for k in order]
            together = [(k, _comparable(f.result())) for k, f in futures]
    for k, result in together:
        assert result == alone[k], k
    assert settings() == before


def test_chat_returns_what_every_routed_decoder_made(all_tasks, synth_root):
    """A routed answer's results, packaged for ``chat(return_dict=True)``, equal those of the task's own entry
    (segment, pose, generate) on the same model and image: the same label map, keypoints and picture."""
    from visionllm.apis.chat_inference import routed_outputs
    from visionllm.datasets import prompts
    inf = all_tasks
    img = osp.join(synth_root, 'images/val/000001.png')
    loaded = inf._load_one(img)
    names = ['background', 'red circle']
    seg = inf._run([inf._prepare(loaded, prompts.seg_conversation(names), task='semseg', class_names=names)])[0]
    out = routed_outputs(seg, loaded, 0.3)
    ref = inf.segment(img, names)[0]
    assert set(out) == {'seg'} and out['seg']['class_names'] == names
    assert np.array_equal(out['seg']['label_map'], ref['label_map'])
    pose = inf._run([inf._prepare(loaded, prompts.pose_conversation('shape', ['top', 'center']), task='pose',
                                  class_names=['shape'], keypoint_names=['top', 'center'])])[0]
    out = routed_outputs(pose, loaded, 0.0)
    ref = inf.pose(img, 'shape', 'top . center', pred_score_thr=0.0)[0]
    assert {'pose', 'det'} <= set(out) and out['pose']['keypoint_names'] == ['top', 'center']
    assert out['pose']['keypoints'] == ref['keypoints'] and out['pose']['scores'] == ref['scores']
    gen = inf._run([inf._pack_only(prompts.gen_conversation('a red circle'), task='gen', text='a red circle')])[0]
    out = routed_outputs(gen, None, 0.3)
    assert set(out) == {'image'} and np.array_equal(out['image'], inf.generate('a red circle')[0])
