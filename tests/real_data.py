"""Real-format fixtures from real photos that ship with scikit-image (no download).

``write_coco_instances`` writes a COCO instances file exactly as COCO does: non-sequential image and
category ids, categories listed out of id order, compressed RLE masks (nuclei of an
immunohistochemistry slide: ~230 per 512x512 image), polygon masks (coins), a crowd region with an
uncompressed RLE, and a box-less negative photo.
"""
import json
import os
import os.path as osp
from typing import Dict, List

import numpy as np

CATEGORIES = [dict(id=17, name='nucleus', supercategory='cell'), dict(id=3, name='coin', supercategory='object')]


def _nuclei() -> tuple:
    """Immunohistochemistry slide [512, 512, 3] uint8 and its nuclei labels [512, 512] (0 = background)."""
    from scipy import ndimage as ndi
    from skimage import color, data, filters, measure
    image = data.immunohistochemistry()
    haematoxylin = color.rgb2hed(image)[..., 0]
    fg = ndi.binary_opening(haematoxylin > filters.threshold_otsu(haematoxylin), iterations=2)
    labels = measure.label(fg)
    for region in measure.regionprops(labels):
        if region.area < 30:
            labels[labels == region.label] = 0
    return image, measure.label(labels > 0)


def _coins() -> tuple:
    """Coins photo [303, 384, 3] uint8 and its coin labels (watershed on the Sobel edges)."""
    from scipy import ndimage as ndi
    from skimage import data, filters, measure, segmentation
    gray = data.coins()
    markers = np.zeros_like(gray)
    markers[gray < 30], markers[gray > 150] = 1, 2
    fg = ndi.binary_fill_holes(segmentation.watershed(filters.sobel(gray), markers) == 2)
    labels = measure.label(fg)
    for region in measure.regionprops(labels):
        if region.area < 100:
            labels[labels == region.label] = 0
    return np.repeat(gray[..., None], 3, axis=2), measure.label(labels > 0)


def _polygons(mask: np.ndarray) -> List[List[float]]:
    from skimage import measure
    polys = []
    for contour in measure.find_contours(np.pad(mask, 1).astype(np.uint8), 0.5):
        contour = measure.approximate_polygon(contour - 1, tolerance=0.5)
        if len(contour) >= 3:
            polys.append([float(v) for yx in contour for v in (yx[1], yx[0])])
    return polys


def _uncompressed_rle(mask: np.ndarray) -> Dict:
    """COCO's crowd format: run lengths over the column-major mask, starting with a 0-run."""
    flat = np.asfortranarray(mask).reshape(-1, order='F').astype(np.uint8)
    change = np.flatnonzero(np.diff(np.concatenate([[0], flat, [1 - flat[-1]]])))
    counts = np.diff(np.concatenate([[0], change]))
    return dict(size=list(mask.shape), counts=[int(c) for c in counts])


def _instances(labels: np.ndarray, image_id: int, cat_id: int, start_id: int, polygons: bool) -> List[Dict]:
    from pycocotools import mask as mask_utils
    anns = []
    for k in range(1, int(labels.max()) + 1):
        m = labels == k
        rle = mask_utils.encode(np.asfortranarray(m.astype(np.uint8)))
        x, y, w, h = (float(v) for v in mask_utils.toBbox(rle))
        if polygons:
            seg = _polygons(m)
        else:
            seg = dict(size=rle['size'], counts=rle['counts'].decode())
        anns.append(dict(id=start_id + len(anns), image_id=image_id, category_id=cat_id, bbox=[x, y, w, h],
                         area=float(m.sum()), iscrowd=0, segmentation=seg))
    return anns


def write_coco_instances(root: str, ann_name: str = 'instances.json', nuclei_only: bool = False) -> str:
    """Write images under ``root/images`` and a COCO instances file ``root/annotations/ann_name``.

    Returns the annotation file's path. With ``nuclei_only`` only the slide and its category are written.
    """
    from PIL import Image
    from skimage import data
    os.makedirs(osp.join(root, 'images'), exist_ok=True)
    os.makedirs(osp.join(root, 'annotations'), exist_ok=True)
    slide, nuclei = _nuclei()
    images, anns = [], []
    Image.fromarray(slide).save(osp.join(root, 'images', 'ihc_slide.png'))
    images.append(dict(id=205, file_name='images/ihc_slide.png', height=512, width=512))
    anns += _instances(nuclei, 205, 17, 5001, polygons=False)
    if not nuclei_only:
        coins, coin_labels = _coins()
        Image.fromarray(coins).save(osp.join(root, 'images', 'coins.jpg'), quality=95)
        h, w = coins.shape[:2]
        images.append(dict(id=101, file_name='images/coins.jpg', height=h, width=w))
        anns += _instances(coin_labels, 101, 3, 9001, polygons=True)
        crowd = np.zeros((h, w), bool)
        crowd[h - 40:h - 5, 5:120] = True  # a crowd region: ignored by the metric, skipped in training
        anns.append(dict(id=9900, image_id=101, category_id=3, bbox=[5.0, float(h - 40), 115.0, 35.0],
                         area=float(crowd.sum()), iscrowd=1, segmentation=_uncompressed_rle(crowd)))
        Image.fromarray(data.chelsea()).save(osp.join(root, 'images', 'chelsea.jpg'), quality=95)
        images.append(dict(id=7, file_name='images/chelsea.jpg', height=300, width=451))  # no objects
    path = osp.join(root, 'annotations', ann_name)
    cats = [c for c in CATEGORIES if not nuclei_only or c['id'] == 17]
    with open(path, 'w') as f:
        json.dump(dict(images=images, annotations=anns, categories=cats), f)
    return path


def reorder_categories(src: str, dst: str) -> str:
    """A copy of a COCO file with its ``categories`` listed in the reverse order (same ids)."""
    with open(src) as f:
        d = json.load(f)
    d['categories'] = d['categories'][::-1]
    with open(dst, 'w') as f:
        json.dump(d, f)
    return dst


def _two_class_map(image: np.ndarray, fg: str, bg: str, classes: tuple, bright_fg: bool = True) -> np.ndarray:
    """ADE20K-style label map of a photo: Otsu split of its brightness into ``fg`` / ``bg`` (values = index
    in ``classes`` + 1), with an unlabelled (0) 8 px border, as ADE's annotators leave at edges."""
    from skimage import color, filters
    gray = color.rgb2gray(image)
    mask = gray > filters.threshold_otsu(gray)
    mask = mask if bright_fg else ~mask
    out = np.where(mask, classes.index(fg) + 1, classes.index(bg) + 1).astype(np.uint8)
    out[:8], out[-8:], out[:, :8], out[:, -8:] = 0, 0, 0, 0
    return out


def write_ade20k(root: str, classes: tuple) -> str:
    """mmseg's ADE20K layout under ``root`` (``images/{training,validation}/*.jpg`` and label PNGs with the
    same stems in ``annotations/...``; pixel value = 1 + index in ADE's 150 ``classes``, 0 = unlabelled).
    Returns ``root``."""
    from PIL import Image
    from skimage import data
    photos = dict(training=[('ADE_train_00000001', data.rocket(), 'sky', 'building', True),
                            ('ADE_train_00000002', data.chelsea(), 'animal', 'wall', False)],
                  validation=[('ADE_val_00000001', data.coffee(), 'plate', 'table', True)])
    for split, items in photos.items():
        os.makedirs(osp.join(root, 'images', split), exist_ok=True)
        os.makedirs(osp.join(root, 'annotations', split), exist_ok=True)
        for stem, image, fg, bg, bright in items:
            Image.fromarray(image).save(osp.join(root, 'images', split, stem + '.jpg'), quality=95)
            Image.fromarray(_two_class_map(image, fg, bg, classes, bright)).save(
                osp.join(root, 'annotations', split, stem + '.png'))
    return root


LVIS_FILLER = ['aerosol_can', 'air_conditioner', 'airplane', 'alarm_clock', 'alcohol', 'alligator', 'almond',
               'ambulance', 'amplifier', 'anklet', 'antenna', 'apple', 'applesauce', 'apricot', 'apron',
               'aquarium', 'arctic_(type_of_shoe)', 'armband', 'armchair', 'armoire', 'armor', 'artichoke',
               'trash_can', 'ashtray', 'asparagus', 'atomizer', 'avocado', 'award', 'awning', 'ax', 'baboon',
               'baby_buggy', 'basketball_backboard', 'backpack', 'handbag', 'suitcase', 'bagel', 'bagpipe']


def write_lvis(root: str, ann_name: str = 'lvis_v1_val.json') -> str:
    """An LVIS v1 file as the lvis package reads it: images named by ``coco_url`` (under ``root/val2017``),
    ``neg_category_ids`` / ``not_exhaustive_category_ids``, categories with ``synonyms`` / ``synset`` /
    ``frequency`` (40 of them: chunked prompts), polygon masks, no crowd flag. Returns the file's path."""
    from PIL import Image
    from scipy import ndimage as ndi
    from skimage import color, data, filters, measure
    os.makedirs(osp.join(root, 'val2017'), exist_ok=True)
    os.makedirs(osp.join(root, 'annotations'), exist_ok=True)
    names = ['coin', 'cat'] + LVIS_FILLER
    cats = [{'id': 3 * k + 5, 'name': n, 'synonyms': [n], 'synset': f'{n}.n.01', 'def': f'a {n.replace("_", " ")}',
             'frequency': 'fcr'[k % 3], 'image_count': 1, 'instance_count': 1} for k, n in enumerate(names)]
    coins, coin_labels = _coins()
    cat_img = data.chelsea()
    gray = color.rgb2gray(cat_img)
    cat_mask = measure.label(ndi.binary_fill_holes(gray < filters.threshold_otsu(gray)))
    cat_mask = cat_mask == np.argmax(np.bincount(cat_mask.ravel())[1:]) + 1  # the largest dark region
    images, anns = [], []
    for img_id, (image, labels, cat_id) in enumerate([(coins, coin_labels, 5), (cat_img, cat_mask.astype(int), 8)]):
        file = f'{397133 + img_id:012d}.jpg'
        Image.fromarray(image).save(osp.join(root, 'val2017', file), quality=95)
        h, w = image.shape[:2]
        images.append(dict(id=397133 + img_id, coco_url=f'http://images.cocodataset.org/val2017/{file}', height=h,
                           width=w, neg_category_ids=[11, 14], not_exhaustive_category_ids=[], license=1,
                           flickr_url='', date_captured='2013-11-14 17:02:52'))
        for a in _instances(labels, 397133 + img_id, cat_id, 100 * (img_id + 1), polygons=True):
            a.pop('iscrowd')
            anns.append(a)
    path = osp.join(root, 'annotations', ann_name)
    with open(path, 'w') as f:
        json.dump(dict(info={}, licenses=[], images=images, annotations=anns, categories=cats), f)
    return path


def write_refcoco(root: str) -> str:
    """mmdet's RefCOCO layout under ``root``: ``train2014/COCO_train2014_*.jpg``, ``refcoco/instances.json``
    (COCO instances of the coins photo) and ``refcoco/refs(unc).p`` (pickled refs: 2 train, 1 val, 1 testA;
    sentences with commas). Returns ``root``."""
    import pickle

    from PIL import Image
    os.makedirs(osp.join(root, 'train2014'), exist_ok=True)
    os.makedirs(osp.join(root, 'refcoco'), exist_ok=True)
    coins, labels = _coins()
    file = 'COCO_train2014_000000581857.jpg'
    Image.fromarray(coins).save(osp.join(root, 'train2014', file), quality=95)
    h, w = coins.shape[:2]
    anns = _instances(labels, 581857, 3, 1700000, polygons=True)
    with open(osp.join(root, 'refcoco', 'instances.json'), 'w') as f:
        json.dump(dict(images=[dict(id=581857, file_name=file, height=h, width=w)], annotations=anns,
                       categories=[dict(id=3, name='coin', supercategory='object')]), f)
    by_x = sorted(anns, key=lambda a: a['bbox'][0])
    said = [('train', by_x[0], ['leftmost coin, near the edge', 'coin on the far left']),
            ('train', by_x[-1], ['rightmost coin']),
            ('val', by_x[1], ['second coin from the left, small']),
            ('testA', by_x[-2], ['second coin from the right', 'the coin next to the rightmost one'])]
    refs = [dict(ref_id=k, ann_id=a['id'], image_id=581857, category_id=3, split=split, file_name=file,
                 sent_ids=[10 * k + j for j in range(len(s))],
                 sentences=[dict(raw=t, sent=t.replace(',', ''), sent_id=10 * k + j, tokens=t.split())
                            for j, t in enumerate(s)]) for k, (split, a, s) in enumerate(said)]
    with open(osp.join(root, 'refcoco', 'refs(unc).p'), 'wb') as f:
        pickle.dump(refs, f)
    return root


COCO_KEYPOINTS = ['nose', 'left_eye', 'right_eye', 'left_ear', 'right_ear', 'left_shoulder', 'right_shoulder',
                  'left_elbow', 'right_elbow', 'left_wrist', 'right_wrist', 'left_hip', 'right_hip', 'left_knee',
                  'right_knee', 'left_ankle', 'right_ankle']
COCO_SKELETON = [[16, 14], [14, 12], [17, 15], [15, 13], [12, 13], [6, 12], [7, 13], [6, 7], [6, 8], [7, 9],
                 [8, 10], [9, 11], [2, 3], [1, 2], [1, 3], [2, 4], [3, 5], [4, 6], [5, 7]]


def write_coco_keypoints(root: str, ann_name: str = 'person_keypoints.json', second_person: bool = False) -> str:
    """COCO person keypoints as COCO writes them: the astronaut photo with one person (17 named points, 1-based
    skeleton; unlabelled points are (0, 0, 0), occluded ones v=1), a crowd annotation with no keypoints, and
    a second category without keypoints. With ``second_person``, a smaller person beside the first (several
    people in one image). Returns the file's path."""
    from PIL import Image
    from skimage import data
    os.makedirs(osp.join(root, 'images'), exist_ok=True)
    os.makedirs(osp.join(root, 'annotations'), exist_ok=True)
    Image.fromarray(data.astronaut()).save(osp.join(root, 'images', 'astronaut.jpg'), quality=95)
    points = {'nose': (236, 118, 2), 'left_eye': (252, 104, 2), 'right_eye': (215, 104, 2), 'left_ear': (275, 110, 1),
              'right_ear': (195, 112, 2), 'left_shoulder': (320, 230, 2), 'right_shoulder': (150, 235, 2),
              'left_elbow': (380, 330, 1), 'right_elbow': (120, 340, 2), 'right_wrist': (170, 420, 2)}
    kps = [v for n in COCO_KEYPOINTS for v in points.get(n, (0, 0, 0))]
    crowd = np.zeros((512, 512), bool)
    crowd[440:510, 0:60] = True
    anns = [dict(id=42, image_id=9, category_id=1, bbox=[95.0, 20.0, 330.0, 492.0], area=120000.0, iscrowd=0,
                 num_keypoints=sum(1 for n in COCO_KEYPOINTS if n in points), keypoints=kps,
                 segmentation=[[95.0, 512.0, 140.0, 200.0, 236.0, 20.0, 330.0, 200.0, 425.0, 512.0]]),
            dict(id=43, image_id=9, category_id=1, bbox=[0.0, 440.0, 60.0, 70.0], area=3000.0, iscrowd=1,
                 num_keypoints=0, keypoints=[0] * 51,
                 segmentation=_uncompressed_rle(crowd)),
            dict(id=44, image_id=9, category_id=90, bbox=[380.0, 380.0, 100.0, 100.0], area=10000.0, iscrowd=0,
                 segmentation=[[380.0, 380.0, 480.0, 380.0, 480.0, 480.0, 380.0, 480.0]])]
    if second_person:
        small = {n: (int(400 + (x - 95) * 0.3), int(300 + y * 0.3), v) for n, (x, y, v) in points.items()}
        anns.append(dict(id=45, image_id=9, category_id=1, bbox=[400.0, 300.0, 100.0, 150.0], area=9000.0,
                         iscrowd=0, num_keypoints=len(small),
                         keypoints=[v for n in COCO_KEYPOINTS for v in small.get(n, (0, 0, 0))],
                         segmentation=[[400.0, 450.0, 450.0, 300.0, 500.0, 450.0]]))
    cats = [dict(id=90, name='rocket', supercategory='object'),
            dict(id=1, name='person', supercategory='person', keypoints=COCO_KEYPOINTS, skeleton=COCO_SKELETON)]
    path = osp.join(root, 'annotations', ann_name)
    with open(path, 'w') as f:
        json.dump(dict(images=[dict(id=9, file_name='images/astronaut.jpg', height=512, width=512)],
                       annotations=anns, categories=cats), f)
    return path
