import os.path as osp

import numpy as np
import pytest
import torch
from mmengine.evaluator import Evaluator
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


def test_routing_metric_per_phrasing_and_task():
    """Only samples of the metric's phrasing count; samples of several tasks are also scored per task."""
    det = [('red circle', '[DET]')]
    grd = [('the red circle', '[GRD]')]
    samples = [dict(answer_mode='free', task='det', phrasing='held_out', gt_groups=det,
                    pred_text='Here are the results: red circle[DET].'),
               dict(answer_mode='free', task='grounding', phrasing='held_out', gt_groups=grd,
                    pred_text='Here are the results: the red circle[DET].'),
               dict(answer_mode='free', task='det', phrasing='default', gt_groups=det, pred_text='A red circle.')]
    m = RoutingAccuracy(phrasing='held_out')
    m.process({}, samples)
    r = m.compute_metrics(m.results)
    assert r['token_accuracy'] == 0.5 and r['det/token_accuracy'] == 1.0 and r['grounding/token_accuracy'] == 0.0
    assert r['grounding/name_recall'] == 1.0
    m = RoutingAccuracy(phrasing='default')
    m.process({}, samples)
    r = m.compute_metrics(m.results)
    assert r['token_accuracy'] == 0.0 and not any('/' in k for k in r)  # one task: no breakdown
    m = RoutingAccuracy()
    m.process({}, samples)
    assert len(m.results) == 3


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
    # a metric of one phrasing reads only samples of that phrasing (samples without one are 'default')
    held = OVCocoMetric(ann_file=ann, metric=['bbox'], phrasing='held_out')
    default = OVCocoMetric(ann_file=ann, metric=['bbox'], phrasing='default')
    for metric in (held, default):
        metric.process({}, _oracle_samples(ann))
    assert held.results == [] and default.compute_metrics(default.results)['bbox_mAP'] == 1.0
    # wrong names -> zero
    m2 = OVCocoMetric(ann_file=ann, metric=['bbox'])
    samples = _oracle_samples(ann)
    for s in samples:
        s['pred_instances']['label_names'] = ['purple star'] * len(s['pred_instances']['labels'])
    m2.process({}, samples)
    assert m2.compute_metrics(m2.results)['bbox_mAP'] < 0.2
    # names written in another case still name their category
    m3 = OVCocoMetric(ann_file=ann, metric=['bbox'])
    samples = _oracle_samples(ann)
    for s in samples:
        s['pred_instances']['label_names'] = [s['class_names'][int(i)].title() for i in s['pred_instances']['labels']]
    m3.process({}, samples)
    assert m3.compute_metrics(m3.results)['bbox_mAP'] == 1.0


def _reordered_copy(ann, path):
    """The annotation file with its categories in reverse order (ids unchanged, so not in id order)."""
    import json
    raw = json.load(open(ann))
    raw['categories'] = raw['categories'][::-1]
    json.dump(raw, open(path, 'w'))
    return str(path)


def test_category_order_of_the_file_is_followed(synth_root, tmp_path):
    """Categories listed out of id order: the dataset's labels and the metric both follow the file's order
    (mmdet's convention), so the same predictions score the same and every label names its own box."""
    from mmengine.registry import DefaultScope

    from visionllm.datasets import CocoOVDDataset
    ann = osp.join(synth_root, 'annotations/instances_val.json')
    shuffled = _reordered_copy(ann, tmp_path / 'shuffled.json')
    scores = []
    for path in (ann, shuffled):
        m = OVCocoMetric(ann_file=path, metric=['bbox'])
        m.process({}, _oracle_samples(path))
        scores.append(m.compute_metrics(m.results)['bbox_mAP'])
    assert scores == [1.0, 1.0]
    with DefaultScope.overwrite_default_scope('visionllm'):
        ds = CocoOVDDataset(ann_file=shuffled, data_root=synth_root,
                            pipeline=[dict(type='mmdet.LoadAnnotations', with_bbox=True)], test_mode=True)
    coco = COCO(shuffled)
    assert list(ds.metainfo['classes']) == [c['name'] for c in coco.dataset['categories']]
    for i in range(len(ds)):
        info = ds.get_data_info(i)
        names = sorted(ds.metainfo['classes'][inst['bbox_label']] for inst in info['instances'])
        truth = sorted(coco.cats[a['category_id']]['name'] for a in coco.imgToAnns[info['img_id']])
        assert names == truth, info['img_id']


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
    assert max(len(coco.getAnnIds(imgIds=i)) for i in coco.getImgIds()) > 1  # several objects per image
    evaluator = Evaluator([m])  # as tools/test.py runs it: process per batch, then evaluate(len(dataset))
    for i in range(0, len(samples), 3):
        evaluator.process(samples[i:i + 3], {})
    r = evaluator.evaluate(len(samples))
    assert r['pose/AP'] == 1.0 and r['pose/AR'] == 1.0


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


def test_grounding_accuracy_in_original_coordinates(synth_root):
    """The referred box is compared in the original image's coordinates when the image was resized
    (scale 0.5 here): a prediction equal to the annotated box scores 1, half of it scores 0."""
    from mmengine.registry import DefaultScope

    from visionllm.datasets import ReferringDataset
    from visionllm.evaluation import GroundingAccuracy
    pipeline = [dict(type='LoadImage'), dict(type='mmdet.Resize', scale=(48, 48), keep_ratio=True),
                dict(type='mmdet.LoadAnnotations', with_bbox=True), dict(type='BuildGroundingConversation'),
                dict(type='PackVisionLLMInputs', tile_size=32)]
    with DefaultScope.overwrite_default_scope('visionllm'):
        ds = ReferringDataset(ann_file=osp.join(synth_root, 'conversations/referring_val.jsonl'),
                              data_root=synth_root, pipeline=pipeline, test_mode=True)
        samples = [ds[i]['data_samples'] for i in range(3)]
    import json
    rows = [json.loads(line) for line in open(osp.join(synth_root, 'conversations/referring_val.jsonl'))][:3]
    m = GroundingAccuracy()
    for s, row, shrink in zip(samples, rows, (1.0, 1.0, 0.5)):
        assert s.metainfo['scale_factor'] == (0.5, 0.5)
        x, y, w, h = row['bbox']  # the annotated box, in the original image
        box = torch.tensor([[x, y, x + w, y + h]]) * shrink
        s.pred_instances = InstanceData(bboxes=box, scores=torch.ones(1), labels=torch.zeros(1, dtype=torch.long))
    m.process({}, [s.to_dict() for s in samples])
    assert abs(m.compute_metrics(m.results)['accuracy'] - 2 / 3) < 1e-6
    # the answer mode filter: these samples are prompted
    free_only, prompted_only = GroundingAccuracy(answer_mode='free'), GroundingAccuracy(answer_mode='prompted')
    for metric in (free_only, prompted_only):
        metric.process({}, [s.to_dict() for s in samples])
    assert free_only.results == [] and len(prompted_only.results) == 3


def test_long_class_lists_are_evaluated_in_chunks(synth_root, tmp_path):
    """An 80-category file (COCO-sized) in test mode: each image becomes 3 samples of at most 30 names that
    cover the list once; each sample's labels point at its own names; the metric merges the chunks."""
    import json

    from mmengine.registry import DefaultScope

    from visionllm.datasets import CocoOVDDataset
    ann = osp.join(synth_root, 'annotations/instances_val.json')
    raw = json.load(open(ann))
    raw['categories'] += [dict(id=100 + k, name=f'thing {k}', supercategory='thing') for k in range(50)]
    path = tmp_path / 'eighty.json'
    path.write_text(json.dumps(raw))
    pipeline = [dict(type='LoadDetAnnotations', with_bbox=True),
                dict(type='BuildDetectionConversation', test_mode=True, max_classes=30)]
    with DefaultScope.overwrite_default_scope('visionllm'):
        ds = CocoOVDDataset(ann_file=str(path), data_root=synth_root, pipeline=pipeline, test_mode=True,
                            class_chunk=30)
    n_img = len(raw['images'])
    assert len(ds) == 3 * n_img
    coco = COCO(str(path))
    for i in range(3):
        chunks = [ds[i * 3 + k] for k in range(3)]
        names = [n for c in chunks for n in c['class_names']]
        assert names == [c['name'] for c in raw['categories']] and max(len(c['class_names']) for c in chunks) == 30
        img_id = chunks[0]['img_id']
        truth = sorted(coco.cats[a['category_id']]['name'] for a in coco.imgToAnns[img_id])
        got = sorted(c['class_names'][int(lbl)] for c in chunks for lbl in c['gt_bboxes_labels'])
        assert got == truth
    m = OVCocoMetric(ann_file=str(path), metric=['bbox'])
    samples = _oracle_samples(str(path))
    split = []  # the oracle of each image cut into two chunk samples
    for s in samples:
        names, labels = s['class_names'], s['pred_instances']['labels']
        for part in (labels < 1, labels >= 1):
            inst = {k: v[part] for k, v in s['pred_instances'].items()}
            split.append(dict(s, pred_instances=inst))
    m.process({}, split)
    assert m.compute_metrics(m.results)['bbox_mAP'] == 1.0


def test_held_out_names_from_names_and_file(tmp_path):
    from visionllm.evaluation.held_out import held_out_names
    from visionllm.utils.errors import ConfigError
    meta = tmp_path / 'meta.json'
    meta.write_text('{"held_out": ["green star"], "seed": 0}')
    assert held_out_names(['pink cross'], str(meta)) == {'pink cross', 'green star'}
    assert held_out_names() == set()
    meta.write_text('{"held_out": "green star"}')
    with pytest.raises(ConfigError, match='meta.json: "held_out" must be a list'):
        held_out_names(file=str(meta))
    with pytest.raises(ConfigError, match='missing.json: cannot read the held-out names'):
        held_out_names(file=str(tmp_path / 'missing.json'))
