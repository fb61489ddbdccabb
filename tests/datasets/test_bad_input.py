import json
import os.path as osp
import shutil

import cv2
import numpy as np
import pytest

from visionllm.datasets import CocoOVDDataset, ConversationDataset, visionllm_collate
from visionllm.datasets.transforms import read_rgb
from visionllm.utils.errors import BadSampleError, DataFormatError


def test_read_rgb_normalizes_formats(tmp_path):
    gray = np.full((8, 9), 200, np.uint8)
    rgba = np.zeros((8, 9, 4), np.uint8)
    rgba[..., 2] = 255  # BGRA: red, opaque in the top half, fully transparent below
    rgba[:4, :, 3] = 255
    deep = np.full((8, 9, 3), 65535, np.uint16)
    for name, arr in (('g.png', gray), ('a.png', rgba), ('d.png', deep)):
        cv2.imwrite(str(tmp_path / name), arr)
    g, a, d = (read_rgb(str(tmp_path / n)) for n in ('g.png', 'a.png', 'd.png'))
    assert g.shape == a.shape == d.shape == (8, 9, 3) and g.dtype == a.dtype == d.dtype == np.uint8
    assert (g == 200).all() and (d == 255).all()
    assert (a[:4] == [255, 0, 0]).all() and (a[4:] == 255).all()  # alpha composited on white


def test_exif_orientation_is_applied(tmp_path):
    """A phone photo stored sideways with an EXIF orientation tag loads upright, as PIL's exif_transpose
    shows it, for all 8 orientations."""
    from PIL import Image, ImageOps
    arr = np.zeros((40, 64, 3), np.uint8)
    arr[:10, :20] = [255, 0, 0]  # a red block in the top-left corner as stored
    for orientation in range(1, 9):
        path = str(tmp_path / f'o{orientation}.jpg')
        im = Image.fromarray(arr)
        exif = im.getexif()
        exif[0x0112] = orientation
        im.save(path, exif=exif, quality=100)
        with Image.open(path) as raw:
            ref = np.asarray(ImageOps.exif_transpose(raw).convert('RGB'))
        got = read_rgb(path)
        assert got.shape == ref.shape, orientation
        assert np.abs(got.astype(int) - ref).max() <= 2, orientation
        assert got.flags.writeable, orientation
    assert read_rgb(str(tmp_path / 'o6.jpg')).shape == (64, 40, 3)  # 90 degrees: portrait


def test_every_listed_extension_decodes(tmp_path):
    """The formats a folder run picks up all decode (GIF: first frame; CMYK JPEG; 16-bit TIFF)."""
    from PIL import Image

    from visionllm.datasets.transforms.loading import IMAGE_EXTENSIONS
    arr = np.zeros((12, 16, 3), np.uint8)
    arr[..., 1] = 200
    files = {}
    for ext in ('.png', '.jpg', '.bmp', '.tif', '.webp', '.ppm'):
        files[ext] = tmp_path / f'x{ext}'
        cv2.imwrite(str(files[ext]), arr[..., ::-1])
    frames = [Image.fromarray(arr), Image.fromarray(255 - arr)]
    frames[0].save(tmp_path / 'anim.gif', save_all=True, append_images=frames[1:])
    Image.fromarray(arr).convert('CMYK').save(tmp_path / 'cmyk.jpg')
    cv2.imwrite(str(tmp_path / 'deep.tiff'), np.full((12, 16), 40000, np.uint16))
    for path in [*files.values(), tmp_path / 'anim.gif', tmp_path / 'cmyk.jpg', tmp_path / 'deep.tiff']:
        assert path.suffix in IMAGE_EXTENSIONS
        img = read_rgb(str(path))
        assert img.shape == (12, 16, 3) and img.dtype == np.uint8, path
    assert np.abs(read_rgb(str(tmp_path / 'anim.gif')).astype(int) - arr).max() <= 8  # the first frame


def test_missing_and_corrupt_images_name_the_file(tmp_path):
    with pytest.raises(BadSampleError, match=r'nope\.png.*img_path.*cannot read'):
        read_rgb(str(tmp_path / 'nope.png'))
    (tmp_path / 'bad.png').write_bytes(b'not an image at all')
    with pytest.raises(BadSampleError, match=r'bad\.png.*cannot decode'):
        read_rgb(str(tmp_path / 'bad.png'))
    (tmp_path / 'empty.png').write_bytes(b'')
    with pytest.raises(BadSampleError, match=r'empty\.png.*cannot decode image .*; 0 bytes'):
        read_rgb(str(tmp_path / 'empty.png'))
    ok, enc = cv2.imencode('.jpg', np.zeros((64, 64, 3), np.uint8))
    (tmp_path / 'cut.jpg').write_bytes(enc.tobytes()[:40])  # truncated inside the header
    with pytest.raises(BadSampleError, match=r'cut\.jpg.*cannot decode'):
        read_rgb(str(tmp_path / 'cut.jpg'))


def test_malformed_conversation_jsonl(tmp_path):
    p = tmp_path / 'c.jsonl'
    p.write_text('{"image": "x.png", "conversations": [{"from": "human", "value": "hi"}]}\n{oops\n')
    with pytest.raises(DataFormatError, match=r'c\.jsonl:2: invalid JSON'):
        ConversationDataset(ann_file=str(p), pipeline=[])
    p.write_text('{"image": "x.png", "conversations": [{"from": "alien", "value": "hi"}]}\n')
    with pytest.raises(DataFormatError, match=r'c\.jsonl:1: `conversations\[0\]`'):
        ConversationDataset(ann_file=str(p), pipeline=[])
    p.write_text('{"conversations": [{"from": "human", "value": "hi"}]}\n')
    with pytest.raises(DataFormatError, match=r'field `image`'):
        ConversationDataset(ann_file=str(p), pipeline=[])


def test_malformed_coco_json(tmp_path, synth_root):
    p = tmp_path / 'i.json'
    p.write_text('{"images": [], "annotations": [')
    with pytest.raises(DataFormatError, match=r'i\.json: invalid JSON'):
        CocoOVDDataset(ann_file=str(p), pipeline=[])
    with open(osp.join(synth_root, 'annotations/instances_val.json')) as f:
        d = json.load(f)
    d['annotations'][1]['bbox'] = [1, 2, 3]
    p.write_text(json.dumps(d))
    with pytest.raises(DataFormatError, match=r'annotations\[1\]\.bbox'):
        CocoOVDDataset(ann_file=str(p), pipeline=[])


def test_degenerate_boxes_are_dropped_and_classes_come_from_file(tmp_path, synth_root):
    with open(osp.join(synth_root, 'annotations/instances_val.json')) as f:
        d = json.load(f)
    first = d['annotations'][0]
    n_img0 = sum(a['image_id'] == first['image_id'] for a in d['annotations'])
    d['annotations'].append(dict(first, id=10**6, bbox=[5, 5, 0, 7]))              # zero width
    d['annotations'].append(dict(first, id=10**6 + 1, bbox=[500, 500, 20, 20]))   # outside the image
    p = tmp_path / 'i.json'
    p.write_text(json.dumps(d))
    ds = CocoOVDDataset(ann_file=str(p), data_root=synth_root, pipeline=[])
    assert ds.metainfo['classes'][0] == 'red circle' and len(ds.metainfo['classes']) == 30
    info = next(x for x in map(ds.get_data_info, range(len(ds))) if x['img_id'] == first['image_id'])
    assert len(info['instances']) == n_img0


def test_training_skips_bad_samples_with_a_reason(tmp_path, synth_root):
    root = tmp_path / 'data'
    shutil.copytree(synth_root, root)
    (root / 'images/train/000001.png').write_bytes(b'corrupt')
    (root / 'images/train/000002.png').unlink()
    ds = ConversationDataset(ann_file=str(root / 'conversations/caption_train.jsonl'), data_root=str(root),
                             pipeline=[dict(type='LoadImage'), dict(type='PackVisionLLMInputs', tile_size=32)])
    batch = visionllm_collate([ds[i] for i in range(4)])
    assert len(batch['data_samples']) == 2
    reasons = [s['reason'] for s in batch['skipped']]
    assert [s['index'] for s in batch['skipped']] == [1, 2]
    assert 'cannot decode' in reasons[0] and 'cannot read' in reasons[1]
    test_ds = ConversationDataset(ann_file=str(root / 'conversations/caption_train.jsonl'), data_root=str(root),
                                  pipeline=[dict(type='LoadImage')], test_mode=True)
    with pytest.raises(BadSampleError, match='000001.png'):
        test_ds[1]


def test_unwritable_group_name_is_a_bad_sample():
    """A referring expression holding a routing token (or a newline) cannot be written into the answer:
    a BadSampleError naming the image and the field, which training skips and counts."""
    from visionllm.datasets.transforms import BuildGroundingConversation
    with pytest.raises(BadSampleError, match=r"img7\.png: field `expression`: name .*contains '\['"):
        BuildGroundingConversation().transform(dict(img_path='img7.png', expression='the cat [DET] on the left'))
    out = BuildGroundingConversation().transform(dict(img_path='img8.png', expression='left guy, blue shirt'))
    assert out['class_names'] == ['left guy, blue shirt'] and ',' not in out['messages'][1]['content'].split(':')[1]


def test_16bit_images_use_their_real_range(tmp_path):
    """A 16-bit microscopy-like image whose values use 0..235 of 65535 stays visible (it turned black when
    the low byte was dropped); full-range 16-bit data maps as before; 16-bit alpha keeps its meaning."""
    low = np.zeros((20, 30), np.uint16)
    low[5:15, 10:20] = 235
    low[0, 0] = 100
    cv2.imwrite(str(tmp_path / 'low.tif'), low)
    img = read_rgb(str(tmp_path / 'low.tif'))
    assert img[10, 15].tolist() == [255, 255, 255] and img[0, 0, 0] == round(100 * 255 / 235) and img[1, 1, 0] == 0
    full = np.full((4, 4, 3), 65535, np.uint16)
    full[0, 0] = 32768
    cv2.imwrite(str(tmp_path / 'full.png'), full)
    assert read_rgb(str(tmp_path / 'full.png'))[0, 0, 0] == 128
    rgba = np.zeros((4, 4, 4), np.uint16)
    rgba[..., 2] = 1000  # BGRA: dim red, opaque
    rgba[..., 3] = 65535
    cv2.imwrite(str(tmp_path / 'rgba16.png'), rgba)
    assert read_rgb(str(tmp_path / 'rgba16.png'))[0, 0].tolist() == [255, 0, 0]


def test_box_only_coco_trains_and_evaluates_without_masks(synth_root, tmp_path):
    """A COCO file without `segmentation` loads boxes (no KeyError in mmdet's mask loading), and the
    metric computes box AP and says mask AP is not computed."""
    from mmengine.registry import DefaultScope

    from visionllm.evaluation import OVCocoMetric
    raw = json.load(open(osp.join(synth_root, 'annotations/instances_val.json')))
    for a in raw['annotations']:
        a.pop('segmentation')
    ann = tmp_path / 'boxes_only.json'
    ann.write_text(json.dumps(raw))
    pipeline = [dict(type='LoadImage'), dict(type='LoadDetAnnotations', with_bbox=True, with_mask=True),
                dict(type='BuildDetectionConversation', max_classes=30), dict(type='PackVisionLLMInputs', tile_size=32)]
    with DefaultScope.overwrite_default_scope('visionllm'):
        ds = CocoOVDDataset(ann_file=str(ann), data_root=synth_root, pipeline=pipeline)
        sample = next(ds[i] for i in range(len(ds)) if len(ds.get_data_info(i)['instances']))['data_samples']
    assert len(sample.gt_instances) > 0 and 'masks' not in sample.gt_instances
    m = OVCocoMetric(ann_file=str(ann), metric=['bbox', 'segm'])
    assert m.metrics == ['bbox']
