"""tools/infer.py on a folder of ordinary awkward files: every decodable file gets its JSON and picture,
every undecodable one is named in one line, the run ends with a summary and no traceback."""
import json
import os.path as osp

import cv2
import numpy as np
from PIL import Image

from tests.conftest import tiny_config
from tests.tools.test_cli import DET_CFG, run


def awkward_folder(root) -> dict:
    """Writes the files; returns {file name: expected (H, W) of the upright image, or None if undecodable}."""
    from skimage import data
    root.mkdir()
    photo = data.astronaut()  # 512 x 512 RGB
    expected = {}

    def put(name, shape):
        expected[name] = shape

    cv2.imwrite(str(root / 'photo.jpg'), photo[..., ::-1])
    put('photo.jpg', (512, 512))
    cv2.imwrite(str(root / 'photo.png'), photo[:300, :, ::-1])  # the same stem: outputs photo_jpg, photo_png
    put('photo.png', (300, 512))
    Image.fromarray(data.coffee()).save(root / 'coffee.png')
    put('coffee.png', data.coffee().shape[:2])
    ok, enc = cv2.imencode('.jpg', photo)
    (root / 'truncated.jpg').write_bytes(enc.tobytes()[:60])
    put('truncated.jpg', None)
    (root / 'empty.png').write_bytes(b'')
    put('empty.png', None)
    (root / 'notes.jpg').write_text('this is a text file, not a picture\n')
    put('notes.jpg', None)
    rgba = np.dstack([photo[:100, :150], np.full((100, 150), 128, np.uint8)])
    Image.fromarray(rgba, 'RGBA').save(root / 'rgba.png')
    put('rgba.png', (100, 150))
    cv2.imwrite(str(root / 'gray8.png'), photo[:90, :70, 0])
    put('gray8.png', (90, 70))
    cv2.imwrite(str(root / 'gray16.png'), photo[:80, :60, 0].astype(np.uint16) * 256)
    put('gray16.png', (80, 60))
    Image.fromarray(photo[:64, :96]).convert('CMYK').save(root / 'cmyk.jpg')
    put('cmyk.jpg', (64, 96))
    im = Image.fromarray(photo[:120, :200])  # stored landscape, EXIF says rotate 90: portrait
    exif = im.getexif()
    exif[0x0112] = 6
    im.save(root / 'phone.jpg', exif=exif)
    put('phone.jpg', (200, 120))
    cv2.imwrite(str(root / 'strip.png'), np.full((16, 4000, 3), 90, np.uint8))
    put('strip.png', (16, 4000))
    cv2.imwrite(str(root / 'thread.png'), np.full((2, 6000, 3), 90, np.uint8))  # 0 px high at the model's size
    put('thread.png', None)
    cv2.imwrite(str(root / 'huge.png'), np.full((3000, 3000, 3), 160, np.uint8))
    put('huge.png', (3000, 3000))
    frames = [Image.fromarray(photo[:50, :50]), Image.fromarray(photo[50:100, 50:100])]
    frames[0].save(root / 'anim.gif', save_all=True, append_images=frames[1:])
    put('anim.gif', (50, 50))
    return expected


def _config(synth_root, tokenizer_dir, tmp_path) -> str:
    cfg = tiny_config(DET_CFG, synth_root, tokenizer_dir, str(tmp_path))
    cfg.model.decoders.det.test_cfg.max_per_img = 3
    cfg_path = str(tmp_path / 'cfg.py')
    cfg.dump(cfg_path)
    return cfg_path


def test_infer_folder_of_awkward_files(synth_root, tokenizer_dir, tmp_path):
    folder = tmp_path / 'photos'
    expected = awkward_folder(folder)
    out = tmp_path / 'out'
    r = run(['tools/infer.py', str(folder), _config(synth_root, tokenizer_dir, tmp_path), '--texts',
             'red circle . red circle . blue square', '--out-dir', str(out), '--pred-score-thr', '0',
             '--batch-size', '4', '--max-image-size', '1000'])
    log = r.stdout + r.stderr
    assert 'Traceback' not in log and 'UserWarning' not in log, log[-3000:]
    assert r.returncode == 0, log[-3000:]
    good = {n: s for n, s in expected.items() if s}
    bad = sorted(n for n, s in expected.items() if s is None)
    assert f'{len(good)} done, {len(bad)} skipped' in log, log[-2000:]
    for name in bad:  # one line each, naming the file
        lines = [ln for ln in log.splitlines() if 'skipped' in ln and name in ln]
        assert len(lines) == 1, (name, log[-3000:])
    assert sum('duplicate class names dropped: red circle' in ln for ln in log.splitlines()) == 1
    stems = [osp.splitext(n)[0] for n in expected]
    for name, (h, w) in good.items():
        stem = osp.splitext(name)[0]
        stem = stem + '_' + name.rsplit('.', 1)[1] if stems.count(stem) > 1 else stem
        pred = json.load(open(out / 'preds' / f'{stem}.json'))
        assert pred['image_size'] == [h, w], name
        assert len(pred['bboxes']) == len(pred['masks']) == 3  # max_per_img
        assert set(pred['label_names']) <= {'red circle', 'blue square'}
        assert all(m['size'] == [h, w] for m in pred['masks']), name  # masks in the file's resolution
        boxes = np.array(pred['bboxes'])
        assert (boxes[:, 2] <= w + 1e-3).all() and (boxes[:, 3] <= h + 1e-3).all(), name
        vis = cv2.imread(str(out / 'vis' / f'{stem}.png'))
        assert vis is not None, name
        # pictures show what the model saw (downscaled to 1000 px), small ones enlarged to 512 px for drawing
        scale = max(min(1.0, 1000 / max(h, w)), 512 / max(h, w))
        assert abs(vis.shape[0] - h * scale) <= 1 and abs(vis.shape[1] - w * scale) <= 1, (name, vis.shape)
    assert not any(osp.exists(out / 'preds' / f'{osp.splitext(n)[0]}.json') for n in bad)


def test_strict_and_nothing_done_exit_nonzero(synth_root, tokenizer_dir, tmp_path):
    """--strict: any skipped file makes the exit code 1 (the good file still gets its outputs)."""
    folder = tmp_path / 'few'
    folder.mkdir()
    cv2.imwrite(str(folder / 'good.png'), np.full((40, 50, 3), 120, np.uint8))
    (folder / 'bad.jpg').write_bytes(b'\xff\xd8 not really a jpeg')
    out = tmp_path / 'out'
    r = run(['tools/infer.py', str(folder), _config(synth_root, tokenizer_dir, tmp_path), '--texts', 'red circle',
             '--out-dir', str(out), '--strict'])
    log = r.stdout + r.stderr
    assert r.returncode == 1 and '1 done, 1 skipped (1 x cannot decode image)' in log, log[-2000:]
    assert osp.exists(out / 'preds' / 'good.json') and osp.exists(out / 'vis' / 'good.png')
    # chat over the folder with beam search (the vqa task's entry): one answer line per decodable file, the bad
    # one skipped
    r = run(['tools/infer.py', str(folder), _config(synth_root, tokenizer_dir, tmp_path), '--task', 'vqa',
             '--texts', 'How many red circles are there?', '--num-beams', '2', '--out-dir', str(out)])
    log = r.stdout + r.stderr
    assert r.returncode == 0 and '1 done, 1 skipped' in log, log[-2000:]
    assert sum(ln.startswith(str(folder / 'good.png') + ':') for ln in r.stdout.splitlines()) == 1, log[-2000:]


def test_task_flag_names_bad_tasks(tmp_path):
    """--task with an unknown task, or one without an inference entry or input: a message, no model built."""
    import argparse

    import pytest

    from tools.infer import apply_task
    r = run(['tools/infer.py', 'x.png', 'no_config.py', '--task', 'depth', '--texts', 'a'])
    assert r.returncode != 0 and "unknown task 'depth'; registered tasks: [" in r.stderr and 'Traceback' not in r.stderr
    for task, texts, message in (('grounding', 'a', 'declares no inference entry'),
                                 ('semseg', None, '--task semseg needs --texts'),
                                 ('pose', 'shape', '--task pose needs --keypoints')):
        args = argparse.Namespace(task=task, texts=texts, keypoints=None, config=str(tmp_path / 'none.py'))
        with pytest.raises(SystemExit, match=message):
            apply_task(args)
    args = argparse.Namespace(task='semseg', texts='a . b', keypoints=None, config=str(tmp_path / 'none.py'),
                              segment=False)
    apply_task(args)
    assert args.segment is True  # the built-in task runs through its own flag's path


def test_a_routed_chat_answer_writes_each_decoders_results(tmp_path):
    """tools/infer.py --question: the JSON of a routed answer (detections, keypoints, the label map's pixel
    counts) and the picture of a generation route."""
    from tools.infer import _write_routed
    from visionllm.datasets.transforms.loading import read_rgb
    picture = np.full((8, 8, 3), 7, np.uint8)
    label_map = np.array([[0, 1], [1, 1]])
    res = dict(text='red circle, and a picture', outputs=dict(
        det=dict(label_names=['red circle'], scores=[0.9], bboxes=[[1, 2, 3, 4]]), image=picture,
        seg=dict(label_map=label_map, class_names=['background', 'red circle'])))
    said = _write_routed(res, 'a_png', str(tmp_path))
    pred = json.load(open(tmp_path / 'preds' / 'a_png.json'))
    assert pred['answer'] == res['text'] and pred['det']['label_names'] == ['red circle']
    assert pred['seg']['label_counts'] == {'background': 1, 'red circle': 3}
    assert np.array_equal(read_rgb(str(tmp_path / 'preds' / 'a_png_image.png')), picture)
    assert '1 objects' in said and '2 classes segmented' in said
