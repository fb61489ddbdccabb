"""CocoOVDDataset labels: a label names its category whatever order the classes are given in."""
import json
import os.path as osp


def test_classes_given_in_another_order_than_the_files_label_each_instance_by_name(synth_root):
    from visionllm.datasets import CocoOVDDataset
    ann = 'annotations/instances_val.json'
    with open(osp.join(synth_root, ann)) as f:
        raw = json.load(f)
    cat_name = {c['id']: c['name'] for c in raw['categories']}
    reordered = tuple(reversed([c['name'] for c in raw['categories']]))[:12]  # a subset, not in file order
    for classes in (None, reordered):
        ds = CocoOVDDataset(data_root=synth_root, ann_file=ann, pipeline=[], test_mode=True,
                            metainfo=dict(classes=classes) if classes else None)
        names = ds.metainfo['classes']
        anns = {}
        for a in raw['annotations']:
            anns.setdefault(a['image_id'], []).append(a)
        seen = 0
        for i in range(len(ds)):
            info = ds.get_data_info(i)
            want = sorted(cat_name[a['category_id']] for a in anns.get(info['img_id'], [])
                          if cat_name[a['category_id']] in names)
            assert sorted(names[inst['bbox_label']] for inst in info['instances']) == want
            seen += len(want)
        assert seen > 0
        assert all(names[ds.cat2label[c]] == cat_name[c] for c in ds.cat_ids)
