"""Write the embedded synthetic dataset to disk in the formats real datasets use.

Layout under ``out_dir``::

    meta.json                                  vocabulary, held-out names, sizes, seed
    images/{split}/{id:06d}.png                scenes (RGB)
    annotations/instances_{split}.json         COCO instances: boxes, polygon and RLE masks
    annotations/keypoints_{split}.json         COCO keypoints: named points + skeleton per object
    semseg/{split}/{id:06d}.png                semantic maps (0 = background, k = k-th name of the split's list)
    annotations/semseg_classes_{split}.json    class list of the split's semantic maps
    conversations/{caption,vqa,referring}_{split}.jsonl   LLaVA-style conversations
    t2i/{split}.jsonl + t2i/{split}/*.png      text-to-image pairs
    edit/{split}.jsonl + edit/{split}/*.png    edit triples (source, instruction, target)

The training split never draws nor names the held-out categories (see ``vocabulary.HELD_OUT``): its
annotation files list only the seen categories (with their ids: non-sequential, as in real COCO files), so
prompts built from them cannot name a held-out category either. Validation (for choosing settings and
checkpoints) and test (for reported numbers) use all categories.
"""
import json
import os
import os.path as osp
from functools import partial
from multiprocessing import Pool
from typing import Dict, List, Optional

import cv2
import numpy as np
from pycocotools import mask as mask_utils

from . import text
from .scene import SceneObject, background, draw_objects, layout_objects, render_scene
from .vocabulary import HELD_OUT, KEYPOINT_SIGMAS, KEYPOINTS, SKELETON, all_categories, seen_categories

SPLIT_CODES = {'train': 0, 'val': 1, 'test': 2}
FORMAT_VERSION = 2  # 2: held-out names absent from the train split's files; test t2i / edit


def _rng(seed: int, split: str, kind: int, index: int) -> np.random.Generator:
    return np.random.default_rng([seed, SPLIT_CODES[split], kind, index])


def _write_png(path: str, rgb: np.ndarray) -> None:
    cv2.imwrite(path, rgb[..., ::-1] if rgb.ndim == 3 else rgb)


def _segmentation(mask: np.ndarray, as_rle: bool):
    if as_rle:
        rle = mask_utils.encode(np.asfortranarray(mask))
        return {'size': list(rle['size']), 'counts': rle['counts'].decode('ascii')}
    contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    polys = [c.reshape(-1).astype(float).tolist() for c in contours if len(c) >= 3]
    return polys or _segmentation(mask, True)


def split_categories(split: str) -> List[str]:
    """The category names a split draws and names: the seen ones for train, all for val / test."""
    return seen_categories() if split == 'train' else all_categories()


def _scene_record(index: int, split: str, out_dir: str, size: int, seed: int) -> Dict:
    cats = all_categories()
    names = split_categories(split)
    rng = _rng(seed, split, 0, index)
    img, objs, _ = render_scene(rng, size, names)
    rel = f'images/{split}/{index:06d}.png'
    _write_png(osp.join(out_dir, rel), img)
    sem = np.zeros((size, size), np.uint8)
    anns = []
    for k, o in enumerate(objs):
        sem[o.mask > 0] = names.index(o.name) + 1
        x1, y1, x2, y2 = o.bbox_xyxy()
        kps = o.keypoints()
        anns.append(dict(category_id=cats.index(o.name) + 1, bbox=[x1, y1, x2 - x1, y2 - y1],
                         area=float(o.mask.sum()), iscrowd=0,
                         segmentation=_segmentation(o.mask, as_rle=(index + k) % 3 == 2),
                         keypoints=[round(float(v), 2) for v in kps.reshape(-1)],
                         num_keypoints=int((kps[:, 2] > 0).sum())))
    _write_png(osp.join(out_dir, f'semseg/{split}/{index:06d}.png'), sem)
    refs = []
    for k in range(len(objs)):
        expr = text.referring_expression(objs, k)
        if expr:
            refs.append(dict(expression=expr, ann_index=k))
    return dict(file_name=rel, width=size, height=size, anns=anns, caption=text.caption(objs),
                vqa=text.vqa_pairs(rng, objs, names), refs=refs)


def _t2i_record(index: int, split: str, out_dir: str, size: int, seed: int) -> Dict:
    names = split_categories(split)
    rng = _rng(seed, split, 1, index)
    bg = np.full((size, size, 3), 128.0) + rng.normal(0, 3, (size, size, 3))
    objs: List[SceneObject] = []
    while len(objs) != 2:
        objs = layout_objects(rng, size, names, num_objects=(2, 2), min_visible=0.9,
                              radius_frac=(0.14, 0.22))
    rel = f't2i/{split}/{index:06d}.png'
    _write_png(osp.join(out_dir, rel), draw_objects(bg, objs, rng))
    return dict(image=rel, text=text.relation_prompt(objs[0], objs[1]),
                objects=[o.name for o in objs])


def _edit_record(index: int, split: str, out_dir: str, size: int, seed: int) -> Dict:
    names = split_categories(split)
    rng = _rng(seed, split, 2, index)
    bg = background(rng, size)
    objs: List[SceneObject] = []
    while not objs:
        objs = layout_objects(rng, size, names, num_objects=(1, 3), min_visible=0.6,
                              radius_frac=(0.14, 0.22))
    instruction, edited = text.edit_instruction(rng, objs, names)
    src, tgt = f'edit/{split}/{index:06d}_src.png', f'edit/{split}/{index:06d}_tgt.png'
    paint_rng = _rng(seed, split, 3, index)
    _write_png(osp.join(out_dir, src), draw_objects(bg, objs, paint_rng))
    paint_rng = _rng(seed, split, 3, index)
    _write_png(osp.join(out_dir, tgt), draw_objects(bg, edited, paint_rng))
    return dict(source=src, target=tgt, instruction=instruction)


def _write_jsonl(path: str, rows: List[Dict]) -> None:
    with open(path, 'w') as f:
        for r in rows:
            f.write(json.dumps(r) + '\n')


def _write_split(split: str, records: List[Dict], out_dir: str) -> None:
    cats = all_categories()
    categories = [dict(id=cats.index(n) + 1, name=n, supercategory=n.split(' ')[1]) for n in split_categories(split)]
    images, anns = [], []
    cap_rows, vqa_rows, ref_rows = [], [], []
    for img_id, r in enumerate(records):
        images.append(dict(id=img_id, file_name=r['file_name'], width=r['width'], height=r['height']))
        first_ann = len(anns)
        for a in r['anns']:
            anns.append(dict(a, id=len(anns) + 1, image_id=img_id))
        src = dict(image=r['file_name'], image_id=img_id)
        cap_rows.append(dict(src, id=f'{split}-cap-{img_id}', task='caption', conversations=[
            dict(**{'from': 'human', 'value': '<image>\nDescribe the image briefly.'}),
            dict(**{'from': 'gpt', 'value': r['caption']})]))
        for k, (qtype, q, a) in enumerate(r['vqa']):
            vqa_rows.append(dict(src, id=f'{split}-vqa-{img_id}-{k}', task='vqa', question_type=qtype,
                                 conversations=[{'from': 'human', 'value': f'<image>\n{q}'},
                                                {'from': 'gpt', 'value': a}]))
        for k, ref in enumerate(r['refs']):
            ann = anns[first_ann + ref['ann_index']]
            ref_rows.append(dict(src, id=f'{split}-ref-{img_id}-{k}', expression=ref['expression'],
                                 ann_id=ann['id'], bbox=ann['bbox'],
                                 segmentation=ann['segmentation']))
    inst = dict(info=dict(description=f'visionllm synthetic {split}', version=FORMAT_VERSION),
                images=images, categories=categories,
                annotations=[{k: v for k, v in a.items() if k not in ('keypoints', 'num_keypoints')}
                             for a in anns])
    with open(osp.join(out_dir, f'annotations/instances_{split}.json'), 'w') as f:
        json.dump(inst, f)
    # keypoints: one category ('shape', as 'person' in COCO) with named points and a skeleton
    kp_cats = [dict(id=1, name='shape', supercategory='shape', keypoints=KEYPOINTS,
                    skeleton=[[KEYPOINTS.index(a) + 1, KEYPOINTS.index(b) + 1] for a, b in SKELETON])]
    kp_anns = [dict(a, category_id=1, object_name=cats[a['category_id'] - 1]) for a in anns]
    with open(osp.join(out_dir, f'annotations/keypoints_{split}.json'), 'w') as f:
        json.dump(dict(inst, categories=kp_cats, annotations=kp_anns), f)
    _write_jsonl(osp.join(out_dir, f'conversations/caption_{split}.jsonl'), cap_rows)
    _write_jsonl(osp.join(out_dir, f'conversations/vqa_{split}.jsonl'), vqa_rows)
    _write_jsonl(osp.join(out_dir, f'conversations/referring_{split}.jsonl'), ref_rows)


def generate_dataset(out_dir: str, num_train: int = 3000, num_val: int = 200, num_test: int = 200,
                     image_size: int = 128, num_t2i: Optional[Dict[str, int]] = None,
                     num_edit: Optional[Dict[str, int]] = None, gen_size: int = 64, seed: int = 0,
                     workers: int = 2) -> Dict:
    """Generate everything; deterministic for a given seed and sizes. Returns the meta dict."""
    sizes = dict(train=num_train, val=num_val, test=num_test)
    num_t2i = num_t2i or dict(train=max(num_train // 3, 8), val=max(num_val // 2, 4), test=max(num_test // 2, 4))
    num_edit = num_edit or dict(train=max(num_train // 3, 8), val=max(num_val // 2, 4), test=max(num_test // 2, 4))
    for d in ['annotations', 'conversations'] + [f'{k}/{s}' for k in ('images', 'semseg', 't2i', 'edit')
                                                 for s in sizes]:
        os.makedirs(osp.join(out_dir, d), exist_ok=True)
    ctx = Pool(workers) if workers > 1 else None
    run = ctx.map if ctx else (lambda f, it: list(map(f, it)))
    try:
        for split, n in sizes.items():
            if n:
                recs = run(partial(_scene_record, split=split, out_dir=out_dir, size=image_size, seed=seed),
                           range(n))
                _write_split(split, recs, out_dir)
            for kind, fn, counts in (('t2i', _t2i_record, num_t2i), ('edit', _edit_record, num_edit)):
                rows = run(partial(fn, split=split, out_dir=out_dir, size=gen_size, seed=seed),
                           range(counts.get(split, 0)))
                _write_jsonl(osp.join(out_dir, f'{kind}/{split}.jsonl'), rows)
    finally:
        if ctx:
            ctx.close()
    meta = dict(format_version=FORMAT_VERSION, seed=seed, image_size=image_size, gen_size=gen_size,
                splits=sizes, t2i=num_t2i, edit=num_edit, categories=all_categories(),
                held_out=HELD_OUT, keypoints=KEYPOINTS, skeleton=SKELETON, keypoint_sigmas=KEYPOINT_SIGMAS)
    for split in sizes:
        with open(osp.join(out_dir, f'annotations/semseg_classes_{split}.json'), 'w') as f:
            json.dump(['background'] + split_categories(split), f)
    with open(osp.join(out_dir, 'meta.json'), 'w') as f:
        json.dump(meta, f, indent=1)
    return meta
