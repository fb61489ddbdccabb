import os.path as osp

import numpy as np
import torch
from mmengine.structures import InstanceData
from pycocotools.coco import COCO

from visionllm.evaluation import CaptionObjectF1, OVCocoMetric, RoutingAccuracy, VQAAccuracy, parse_routes, strip_routes
from visionllm.structures import VisionLLMDataSample


def test_vqa_and_caption_metrics():
    m = VQAAccuracy()
    m.process({}, [dict(task='vqa', pred_text='Yes.', gt_answer='yes', question_type='exist'),
                   dict(task='vqa', pred_text='two', gt_answer='2', question_type='count'),
                   dict(task='caption', pred_text='x', gt_answer='y')])
    r = m.compute_metrics(m.results)
    assert r['accuracy'] == 0.5 and r['exist_accuracy'] == 1.0 and r['count_accuracy'] == 0.0
    c = CaptionObjectF1()
    c.process({}, [dict(task='caption', pred_text='A red circle and two blue stars.',
                        gt_answer='Two blue stars and a green cross.')])
    r = c.compute_metrics(c.results)
    assert abs(r['object_precision'] - 2 / 3) < 1e-6 and abs(r['object_recall'] - 2 / 3) < 1e-6


def test_routing_metric():
    assert parse_routes('Here are the results: red circle[DET], blue star[DET].', ['[DET]']) == \
        [('red circle', '[DET]'), ('blue star', '[DET]')]
    m = RoutingAccuracy()
    gt = [('red circle', '[DET]'), ('blue star', '[DET]')]
    good = 'Here are the results: red circle[DET], blue star[DET].'
    bad = 'Here are the results: red circle[DET], blue[SEG].'
    m.process({}, [dict(answer_mode='free', gt_groups=gt, pred_text=good),
                   dict(answer_mode='free', gt_groups=gt, pred_text=bad)])
    r = m.compute_metrics(m.results)
    assert r['sample_accuracy'] == 0.5 and r['token_accuracy'] == 0.5 and r['precision'] == 0.75
    assert r['name_accuracy'] == 0.5 and r['name_precision'] == 0.75 and r['name_recall'] == 0.75
    assert 'present_recall' not in r  # no ground-truth instances given


def test_strip_routes_leaves_plain_text():
    tokens = ['[DET]', '[SEG]']
    assert strip_routes('Here are the results: red circle[DET], sky [SEG].', tokens) == \
        'Here are the results: red circle, sky.'
    assert strip_routes('Two red circles.', tokens) == 'Two red circles.'


def test_routing_metric_separates_names_from_tokens():
    """Right routing tokens after wrong names: token accuracy 1, name accuracy 0; names are also scored
    against the objects in the image."""
    m = RoutingAccuracy()
    classes = ['red circle', 'blue star', 'green cross']
    gt = [(n, '[DET]') for n in classes]
    gt_inst = dict(labels=torch.tensor([0, 0, 2]))  # two red circles and a green cross in the image
    wrong = 'Here are the results: red circle[DET], red square[DET], yellow star[DET].'
    m.process({}, [dict(answer_mode='free', gt_groups=gt, pred_text=wrong, class_names=classes,
                        gt_instances=gt_inst)])
    r = m.compute_metrics(m.results)
    assert r['token_accuracy'] == 1.0 and r['name_accuracy'] == 0.0 and r['sample_accuracy'] == 0.0
    assert abs(r['name_precision'] - 1 / 3) < 1e-6 and abs(r['name_recall'] - 1 / 3) < 1e-6
    assert abs(r['present_precision'] - 1 / 3) < 1e-6 and r['present_recall'] == 0.5


def _oracle_samples(ann_file, shuffle_names=True):
    """Predictions = ground truth, labelled through a per-sample (reversed) class list."""
    coco = COCO(ann_file)
    out = []
    for img_id in coco.getImgIds():
        info = coco.imgs[img_id]
        anns = coco.loadAnns(coco.getAnnIds(imgIds=img_id))
        names = [coco.cats[a['category_id']]['name'] for a in anns]
        class_list = sorted(set(names), reverse=shuffle_names)
        boxes = torch.tensor([[a['bbox'][0], a['bbox'][1], a['bbox'][0] + a['bbox'][2], a['bbox'][1] + a['bbox'][3]]
                              for a in anns]).reshape(-1, 4)
        masks = torch.from_numpy(np.stack([coco.annToMask(a) for a in anns]).astype(bool)) \
            if anns else torch.zeros(0, info['height'], info['width'], dtype=torch.bool)
        s = VisionLLMDataSample(metainfo=dict(img_id=img_id, ori_shape=(info['height'], info['width']), task='det',
                                              class_names=class_list, answer_mode='prompted'))
        s.pred_instances = InstanceData(bboxes=boxes, scores=torch.ones(len(anns)), masks=masks,
                                        labels=torch.tensor([class_list.index(n) for n in names], dtype=torch.long))
        out.append(s.to_dict())
    return out


def test_ov_coco_metric_oracle_is_perfect(synth_root):
    ann = osp.join(synth_root, 'annotations/instances_val.json')
    m = OVCocoMetric(ann_file=ann, metric=['bbox', 'segm'], held_out_file=osp.join(synth_root, 'meta.json'))
    m.dataset_meta = dict(classes=('ignored', ))
    m.process({}, _oracle_samples(ann))
    r = m.compute_metrics(m.results)
    assert r['bbox_mAP'] == 1.0 and r['segm_mAP'] == 1.0
    assert r['bbox_seen_mAP'] == 1.0
    # wrong names -> zero
    m2 = OVCocoMetric(ann_file=ann, metric=['bbox'])
    samples = _oracle_samples(ann)
    for s in samples:
        s['pred_instances']['label_names'] = ['purple star'] * len(s['pred_instances']['labels'])
    m2.process({}, samples)
    assert m2.compute_metrics(m2.results)['bbox_mAP'] < 0.2


def test_ov_iou_metric_oracle_and_remapping(synth_root):
    import cv2
    from mmengine.structures import PixelData

    from visionllm.evaluation import OVIoUMetric
    classes_file = osp.join(synth_root, 'annotations/semseg_classes_val.json')
    m = OVIoUMetric(classes_file=classes_file, held_out_file=osp.join(synth_root, 'meta.json'), iou_metrics=['mIoU'])
    import json
    classes = json.load(open(classes_file))
    samples = []
    for i in range(4):
        seg = torch.from_numpy(cv2.imread(osp.join(synth_root, f'semseg/val/{i:06d}.png'), 0).astype(np.int64))
        present = sorted(set(seg.unique().tolist()))
        names = [classes[v] for v in present][::-1]   # a per-sample prompt order
        local = torch.full_like(seg, 255)
        for k, n in enumerate(names):
            local[seg == classes.index(n)] = k
        s = VisionLLMDataSample(metainfo=dict(task='semseg', class_names=names))
        s.gt_sem_seg = PixelData(data=local[None])
        s.pred_sem_seg = PixelData(data=local[None].clone())
        samples.append(s.to_dict())
    m.process({}, samples)
    r = m.compute_metrics(m.results)
    assert r['mIoU'] == 100.0 and r['mIoU_seen'] == 100.0


def test_keypoint_metric_oracle_with_reordered_names(synth_root):
    from pycocotools.coco import COCO as _COCO

    from visionllm.evaluation import OVCocoKeypointMetric
    ann = osp.join(synth_root, 'annotations/keypoints_val.json')
    m = OVCocoKeypointMetric(ann_file=ann, sigmas_file=osp.join(synth_root, 'meta.json'))
    coco = _COCO(ann)
    names = ['center', 'left', 'right', 'top', 'bottom']   # a prompt order != file order
    file_names = coco.loadCats(1)[0]['keypoints']
    samples = []
    for img_id in coco.getImgIds():
        anns = coco.loadAnns(coco.getAnnIds(imgIds=img_id))
        kp = torch.tensor([a['keypoints'] for a in anns]).reshape(len(anns), -1, 3)
        order = [file_names.index(n) for n in names]
        s = VisionLLMDataSample(metainfo=dict(task='pose', img_id=img_id, pred_keypoint_names=names,
                                              ori_shape=(96, 96)))
        s.pred_instances = InstanceData(
            bboxes=torch.tensor([[a['bbox'][0], a['bbox'][1], a['bbox'][0] + a['bbox'][2], a['bbox'][1] + a['bbox'][3]]
                                 for a in anns]).reshape(-1, 4),
            scores=torch.ones(len(anns)), keypoints=kp[:, order, :2], keypoint_scores=torch.ones(len(anns), 5))
        samples.append(s.to_dict())
    m.process({}, samples)
    r = m.compute_metrics(m.results)
    assert r['AP'] > 0.99


def test_generation_and_edit_metrics(synth_root):
    import json

    import cv2

    from visionllm.evaluation import EditMetric, GenerationMetric
    rows = [json.loads(line) for line in open(osp.join(synth_root, 't2i/val.jsonl'))]
    g = GenerationMetric()
    samples = []
    for r in rows:
        img = torch.from_numpy(cv2.imread(osp.join(synth_root, r['image']))[..., ::-1].copy()).permute(2, 0, 1)
        samples.append(dict(task='gen', pred_image=img, objects=r['objects'], val_loss_noise=0.5))
        samples.append(dict(task='gen', pred_image=torch.full_like(img, 128), objects=r['objects']))
    g.process({}, samples)
    res = g.compute_metrics(g.results)
    assert 0.45 <= res['colour_faithfulness'] <= 0.5 and res['val_loss_noise'] == 0.5  # real images: all found
    e = EditMetric()
    img = torch.randint(0, 255, (3, 64, 64), dtype=torch.uint8)
    e.process({}, [dict(task='edit', pred_image=img, gt_image=img),
                   dict(task='edit', pred_image=255 - img, gt_image=img)])
    res = e.compute_metrics(e.results)
    assert res['ssim'] < 1.0 and res['psnr'] > 20
