"""Interactive segmentation by clicks (the NoC protocol reduced to its first clicks): mIoU after 1..K clicks.

Per object of the split's instances file: click 1 at the object's point farthest from its boundary; each next
click at the point farthest from the boundary of the largest region the prediction missed (false negative),
added to the same region (clicks are positive only; when nothing is missed the mask is kept). The model sees
the image file through ``VisionLLMInferencer.interactive_segment``; ground truth is the file's ``segmentation``.

  python tools/test_clicks.py CONFIG CKPT --clicks 3 [--split test] [--out clicks.json]
"""
import argparse
import json
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('config')
    p.add_argument('checkpoint')
    p.add_argument('--clicks', type=int, default=3)
    p.add_argument('--split', default='test', help='the interactive-seg dataset of this dataloader (test / val)')
    p.add_argument('--max-objects', type=int, help='only the first N objects (a quick look)')
    p.add_argument('--out', help='write the numbers as JSON here')
    p.add_argument('--device', default='cpu')
    return p.parse_args()


def next_click(pred, gt):
    """The next positive click (x, y) in the largest missed region of ``gt`` [H, W], or None."""
    import cv2
    import numpy as np

    from visionllm.datasets.transforms.regions import interior_point
    missed = (gt & ~pred).astype(np.uint8)
    n, labels, stats, _ = cv2.connectedComponentsWithStats(missed, connectivity=8)
    if n <= 1:
        return None
    k = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
    return interior_point(labels == k)


def main():
    args = parse_args()
    import numpy as np
    from mmengine.config import Config
    from pycocotools import mask as mask_utils

    from visionllm.apis import VisionLLMInferencer
    from visionllm.apis.runner_utils import friendly_errors
    from visionllm.datasets.transforms.regions import interior_point
    from visionllm.evaluation.held_out import held_out_names
    from visionllm.evaluation.region_metrics import decode_segmentation
    cfg = Config.fromfile(args.config)
    loader = cfg.get(f'{args.split}_dataloader')
    parts = loader.dataset.get('datasets', [loader.dataset]) if loader else []
    ds = next((d for d in parts if d.get('type') == 'RegionDataset' and d.get('task') == 'interactive-seg'), None)
    if ds is None:
        sys.exit(f'{args.config}: no interactive-seg RegionDataset in {args.split}_dataloader')
    ann = osp.join(ds['data_root'], ds['ann_file'])
    with open(ann) as f:
        coco = json.load(f)
    meta = osp.join(ds['data_root'], 'meta.json')
    held_out = held_out_names(file=meta if osp.exists(meta) else None)
    images = {im['id']: im for im in coco['images']}
    names = {c['id']: c['name'] for c in coco['categories']}
    objs = [a for a in coco['annotations'] if not a.get('iscrowd') and a.get('segmentation')]
    objs = objs[:args.max_objects] if args.max_objects else objs
    ious = np.zeros((len(objs), args.clicks))
    scored = np.zeros(len(objs), bool)  # objects whose mask has pixels at the file's size
    with friendly_errors(args.config):
        inf = VisionLLMInferencer(cfg, args.checkpoint, device=args.device)
        for i, a in enumerate(objs):
            im = images[a['image_id']]
            path = osp.join(ds['data_root'], ds.get('data_prefix', {}).get('img', ''), im['file_name'])
            gt = decode_segmentation(a['segmentation'], im['height'], im['width'])
            if not gt.any():
                continue
            scored[i] = True
            clicks = [list(interior_point(gt))]
            for k in range(args.clicks):
                res = inf.interactive_segment(path, [dict(kind='point', points=clicks)])
                pred = mask_utils.decode(res['masks'][0]).astype(bool) if res['masks'] else np.zeros_like(gt)
                ious[i, k] = (pred & gt).sum() / max(1, (pred | gt).sum())
                nxt = next_click(pred, gt) if k + 1 < args.clicks else None
                if nxt is None:
                    ious[i, k + 1:] = ious[i, k]
                    break
                clicks.append(list(nxt))
    unseen = np.array([names[a['category_id']] in held_out for a in objs])
    out = {f'mIoU@{k + 1}click': round(float(ious[scored, k].mean()), 4) for k in range(args.clicks)}
    for split, keep in (('seen', ~unseen & scored), ('unseen', unseen & scored)):
        if keep.any():
            out.update({f'{split}_mIoU@{k + 1}click': round(float(ious[keep, k].mean()), 4)
                        for k in range(args.clicks)})
    out['objects'] = int(scored.sum())
    print(json.dumps(out))
    if args.out:
        with open(args.out, 'w') as f:
            json.dump(out, f, indent=1)


if __name__ == '__main__':
    main()
