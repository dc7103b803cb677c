"""The eval-benchmark registry: each loader on its native annotation format, the source spellings, the errors."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from dedup.benchmarks import (
    BENCHMARKS,
    BenchmarkItem,
    BenchmarkSource,
    load_benchmark,
    load_sources_file,
    parse_source,
)
from dedup.benchmarks.splits import normalize_split, split_from_name

REPO_ROOT = Path(__file__).resolve().parent.parent


def load(name, annotations, media, **fields):
    source = BenchmarkSource(name=name, annotations=str(annotations), media=str(media), **fields)
    return list(load_benchmark(source))


def ids(items):
    return [item.item_id for item in items]


def touch(folder, *names):
    for name in names:
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(b"")


def write_json(path, data):
    path.write_text(json.dumps(data))
    return path


def write_lines(path, records):
    path.write_text("".join(json.dumps(record) + "\n" for record in records))
    return path


# --- real annotation files -------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["vqav2", "okvqa"])
def test_vqa_questions_name_their_coco_image(allennlp, name):
    annotations, images = allennlp
    items = load(name, annotations / "vqav2" / "questions.json", images / "vqav2")
    # three questions about one image
    assert items == [
        BenchmarkItem(name, "train", "458752", str(images / "vqav2" / "COCO_train2014_000000458752.jpg"), "image")
    ]
    assert Path(items[0].path).is_file()


def test_gqa_questions(allennlp):
    annotations, images = allennlp
    items = load("gqa", annotations / "gqa" / "questions.json", images / "gqa", split="val")
    assert [(item.item_id, item.split) for item in items] == [("n578564", "val")]
    assert Path(items[0].path).is_file()


def test_gqa_llava_jsonl(testdata, tmp_path):
    annotations = testdata / "annotations" / "llava_eval" / "gqa_llava_gqa_testdev_balanced.jsonl"
    items = load("gqa", annotations, tmp_path)
    assert len(annotations.read_text().splitlines()) == 12578
    assert len(items) == len(set(ids(items))) == 398
    assert {item.split for item in items} == {"testdev"}
    assert items[0] == BenchmarkItem("gqa", "testdev", "n161313", str(tmp_path / "n161313.jpg"))


def test_textvqa_llava_jsonl(testdata, tmp_path):
    annotations = testdata / "annotations" / "llava_eval" / "textvqa_llava_textvqa_val_v051_ocr.jsonl"
    items = load("textvqa", annotations, tmp_path)
    assert len(items) == len(set(ids(items))) == 3166  # of 5000 questions
    assert items[0] == BenchmarkItem("textvqa", "val", "003a8ae2ef43b901", str(tmp_path / "003a8ae2ef43b901.jpg"))


def test_flickr30k_entities_split_files(testdata):
    split_files = testdata / "annotations" / "flickr30k"
    test = load("flickr30k", split_files / "flickr30k_entities_test.txt", testdata / "images" / "allennlp_benchmarks")
    val = load("flickr30k", split_files / "flickr30k_entities_val.txt", testdata / "images" / "allennlp_benchmarks")
    assert (len(test), len(val)) == (1000, 1000)
    assert {item.split for item in test} == {"test"} and {item.split for item in val} == {"val"}
    assert not set(ids(test)) & set(ids(val))
    assert test[0].item_id == "1016887272"


def test_flickr30k_and_snli_ve_images_are_real(allennlp, testdata):
    annotations, images = allennlp
    entities_test = testdata / "annotations" / "flickr30k" / "flickr30k_entities_test.txt"
    # the same Flickr30k test image ships in both benchmarks' image folders
    for folder in ("flickr30k", "visual_entailment"):
        first = load("flickr30k", entities_test, images / folder)[0]
        assert first.path == str(images / folder / "1016887272.jpg") and Path(first.path).is_file()

    flickr = load("flickr30k", annotations / "flickr30k" / "test.txt", images / "flickr30k")
    assert ids(flickr) == ["6338542128", "4945942737", "1", "2", "3"]
    assert all(Path(item.path).is_file() for item in flickr)

    snli_ve = load("snli_ve", annotations / "visual_entailment" / "sample_pairs.jsonl", images / "visual_entailment")
    assert ids(snli_ve) == ["2248275918", "402978771"]  # 16 premise/hypothesis pairs
    assert {item.split for item in snli_ve} == {"unknown"}  # "sample_pairs" names no split
    assert all(Path(item.path).is_file() for item in snli_ve)


def test_nlvr2_yields_both_images_of_each_pair(allennlp):
    annotations, images = allennlp
    items = load("nlvr2", annotations / "nlvr2" / "tiny-dev.json", images / "nlvr2")
    assert ids(items) == [f"dev-850-{pair}-img{side}" for pair in (0, 2, 3, 1) for side in (0, 1)]
    assert {item.split for item in items} == {"dev"}
    assert all(Path(item.path).is_file() and item.path.endswith(".png") for item in items)


def test_vgqa(allennlp):
    annotations, images = allennlp
    items = load("vgqa", annotations / "vgqa" / "question_answers.json", images / "vgqa", split="train")
    assert [(item.item_id, item.split) for item in items] == [("4", "train"), ("5", "train")]
    assert all(Path(item.path).is_file() for item in items)


def test_msrvtt_jsfusion_csv(testdata, tmp_path):
    touch(tmp_path, "TestVideo/video9770.avi", "video9771.mp4", "notes.txt")
    items = load("msrvtt", testdata / "annotations" / "msrvtt" / "MSRVTT_JSFUSION_test.csv", tmp_path)
    assert len(items) == 1000
    assert {(item.split, item.media) for item in items} == {("test", "video")}
    assert [item.path for item in items[:3]] == [
        str(tmp_path / "TestVideo" / "video9770.avi"),
        str(tmp_path / "video9771.mp4"),
        str(tmp_path / "video7020.mp4"),  # not there: still yielded, with the .mp4 name
    ]


def test_folder_benchmark_of_real_images_and_videos(testdata):
    root = testdata / "images" / "allennlp_benchmarks"
    items = list(load_benchmark(parse_source(f"folder:media={root},label=allennlp")))
    assert len(items) == 57
    assert ids(items) == sorted(ids(items))
    assert items[0] == BenchmarkItem("allennlp", "unknown", "flickr30k/1.jpg", str(root / "flickr30k" / "1.jpg"))

    videos = list(load_benchmark(parse_source(f"folder:media={testdata / 'video'},label=clips,split=test")))
    assert len(videos) == 10 and {(item.media, item.split) for item in videos} == {("video", "test")}
    assert "opencv/vtest.avi" in ids(videos)


# --- published formats, on small files written here ------------------------------------------------


def test_coco_captions_json(testdata, tmp_path):
    media = testdata / "images" / "coco_cc3m_clipcap"
    images = [{"id": 60623, "file_name": "COCO_val2014_000000060623.jpg"}, {"id": 1, "file_name": "COCO_val2014_1.jpg"}]
    annotations = write_json(
        tmp_path / "captions_val2014.json",
        {"images": images, "annotations": [{"image_id": 60623, "id": 7, "caption": "a plate of food"}]},
    )
    items = load("coco", annotations, media)
    assert [(item.item_id, item.split) for item in items] == [("60623", "val"), ("1", "val")]
    assert Path(items[0].path).is_file()


def test_karpathy_coco_splits_and_folder_layouts(testdata, tmp_path):
    media = tmp_path / "coco"
    touch(media, "val2014/COCO_val2014_000000000042.jpg", "COCO_val2014_000000000043.jpg")
    entries = [(42, "test"), (43, "test"), (44, "val"), (45, "restval")]
    images = [
        {"filepath": "val2014", "filename": f"COCO_val2014_{cocoid:012d}.jpg", "split": split, "cocoid": cocoid}
        for cocoid, split in entries
    ]
    annotations = write_json(tmp_path / "dataset_coco.json", {"images": images, "dataset": "coco"})
    items = load("coco", annotations, media)
    assert [(item.item_id, item.split) for item in items] == [
        ("42", "test"),
        ("43", "test"),
        ("44", "val"),
        ("45", "restval"),
    ]
    # the native val2014/ layout, a flattened copy, and the native path when neither exists
    assert [item.path for item in items[:3]] == [
        str(media / "val2014" / "COCO_val2014_000000000042.jpg"),
        str(media / "COCO_val2014_000000000043.jpg"),
        str(media / "val2014" / "COCO_val2014_000000000044.jpg"),
    ]
    assert ids(load("coco", annotations, media, split="test")) == ["42", "43"]


@pytest.mark.parametrize("name", ["coco", "flickr30k"])
def test_karpathy_flickr30k(tmp_path, name):
    images = [
        {"filename": "1000092795.jpg", "imgid": 0, "split": "train"},
        {"filename": "10002456.jpg", "imgid": 1, "split": "test"},
    ]
    annotations = write_json(tmp_path / "dataset_flickr30k.json", {"images": images, "dataset": "flickr30k"})
    items = load(name, annotations, tmp_path, split="test")
    assert items == [BenchmarkItem(name, "test", "10002456", str(tmp_path / "10002456.jpg"))]


def test_vqa_test_dev_images_are_test2015_ones(tmp_path):
    questions = [
        {"image_id": 15, "question_id": 150},
        {"image_id": 15, "question_id": 151},
        {"image_id": 9, "question_id": 90},
    ]
    annotations = write_json(tmp_path / "q.json", {"data_subtype": "test-dev2015", "questions": questions})
    items = load("vqav2", annotations, tmp_path)
    assert [(item.item_id, item.split, Path(item.path).name) for item in items] == [
        ("15", "testdev", "COCO_test2015_000000000015.jpg"),
        ("9", "testdev", "COCO_test2015_000000000009.jpg"),
    ]


def test_textvqa_json_keeps_the_wanted_set(tmp_path):
    data = [
        {"image_id": "0054c91397f2fe05", "set_name": "train", "question": "what brand?"},
        {"image_id": "003a8ae2ef43b901", "set_name": "val", "question": "what?"},
        {"image_id": "003a8ae2ef43b901", "set_name": "val", "question": "why?"},
    ]
    annotations = write_json(tmp_path / "TextVQA_0.5.1_train.json", {"dataset_name": "textvqa", "data": data})
    assert [(item.item_id, item.split) for item in load("textvqa", annotations, tmp_path)] == [
        ("0054c91397f2fe05", "train"),
        ("003a8ae2ef43b901", "val"),
    ]
    val = load("textvqa", annotations, tmp_path, split="val")
    assert val == [BenchmarkItem("textvqa", "val", "003a8ae2ef43b901", str(tmp_path / "003a8ae2ef43b901.jpg"))]


def test_vizwiz_split_from_the_image_name(tmp_path):
    questions = [
        {"image": "VizWiz_val_00000000.jpg", "question": "What is this?"},
        {"image": "VizWiz_val_00000000.jpg", "question": "And this?"},
        {"image": "VizWiz_test_00000007.jpg", "question": "Which colour?"},
    ]
    annotations = write_json(tmp_path / "val.json", questions)
    items = load("vizwiz", annotations, tmp_path)
    assert [(item.item_id, item.split) for item in items] == [
        ("VizWiz_val_00000000", "val"),
        ("VizWiz_test_00000007", "test"),
    ]
    assert items[0].path == str(tmp_path / "VizWiz_val_00000000.jpg")
    assert ids(load("vizwiz", annotations, tmp_path, split="test")) == ["VizWiz_test_00000007"]


def test_hateful_memes(tmp_path):
    memes = [
        {"id": 42953, "img": "img/42953.png", "label": 0, "text": "a"},
        {"id": 23058, "img": "img/23058.png", "text": "b"},
    ]
    annotations = write_lines(tmp_path / "dev_seen.jsonl", memes)
    touch(tmp_path, "data/img/42953.png", "flat/42953.png")
    items = load("hatefulmemes", annotations, tmp_path / "data")
    assert [(item.item_id, item.split) for item in items] == [("42953", "dev"), ("23058", "dev")]
    assert [item.path for item in items] == [str(tmp_path / "data/img/42953.png"), str(tmp_path / "data/img/23058.png")]
    # a media folder that is img/ itself
    assert load("hatefulmemes", annotations, tmp_path / "flat")[0].path == str(tmp_path / "flat" / "42953.png")


def test_visdial_val_and_train_image_names(tmp_path):
    dialogs = [{"image_id": 185565, "caption": "a cat"}, {"image_id": 185565, "caption": "again"}, {"image_id": 284024}]
    val = write_json(
        tmp_path / "visdial_1.0_val.json", {"version": "1.0", "split": "val2018", "data": {"dialogs": dialogs}}
    )
    items = load("visdial", val, tmp_path)
    assert [(item.item_id, item.split, Path(item.path).name) for item in items] == [
        ("185565", "val", "VisualDialog_val2018_000000185565.jpg"),
        ("284024", "val", "VisualDialog_val2018_000000284024.jpg"),
    ]
    # train images are COCO train2014 and val2014 ones
    touch(tmp_path, "COCO_val2014_000000284024.jpg")
    train = write_json(
        tmp_path / "visdial_1.0_train.json", {"version": "1.0", "split": "train", "data": {"dialogs": dialogs}}
    )
    assert [Path(item.path).name for item in load("visdial", train, tmp_path)] == [
        "COCO_train2014_000000185565.jpg",
        "COCO_val2014_000000284024.jpg",
    ]


def test_nlvr2_train_images_in_their_directory(tmp_path):
    statements = [
        {"identifier": "train-10171-0-0", "directory": 91},
        {"identifier": "train-10171-0-1", "directory": 91},
    ]
    annotations = write_lines(tmp_path / "train.json", statements)
    touch(tmp_path, "images/91/train-10171-0-img0.png")
    items = load("nlvr2", annotations, tmp_path / "images")
    assert [(item.item_id, item.split) for item in items] == [
        ("train-10171-0-img0", "train"),
        ("train-10171-0-img1", "train"),
    ]
    assert items[0].path == str(tmp_path / "images" / "91" / "train-10171-0-img0.png")
    assert load("nlvr2", annotations, tmp_path / "images", split="dev") == []


def test_msrvtt_videodatainfo_json(tmp_path):
    videos = [{"video_id": "video0", "split": "train"}, {"video_id": "video6513", "split": "validate"}]
    annotations = write_json(tmp_path / "train_val_videodatainfo.json", {"videos": videos, "sentences": []})
    items = load("msrvtt", annotations, tmp_path)
    assert [(item.item_id, item.split, item.media) for item in items] == [
        ("video0", "train", "video"),
        ("video6513", "val", "video"),
    ]
    assert ids(load("msrvtt", annotations, tmp_path, split="val")) == ["video6513"]


def test_msvd_annotations_txt(tmp_path):
    lines = "-4wsuPCjDBc_5_15 a squirrel is eating a peanut\n-4wsuPCjDBc_5_15 a chipmunk eats\n\nzv2RIbUsnSw_335_341 a man plays\n"
    annotations = tmp_path / "annotations.txt"
    annotations.write_text(lines)
    touch(tmp_path, "YouTubeClips/-4wsuPCjDBc_5_15.avi")
    items = load("msvd", annotations, tmp_path, split="test")
    assert [(item.item_id, item.split) for item in items] == [
        ("-4wsuPCjDBc_5_15", "test"),
        ("zv2RIbUsnSw_335_341", "test"),
    ]
    assert [item.path for item in items] == [
        str(tmp_path / "YouTubeClips" / "-4wsuPCjDBc_5_15.avi"),
        str(tmp_path / "zv2RIbUsnSw_335_341.mp4"),
    ]


def test_vatex(tmp_path):
    videos = [{"videoID": "Ptf_2VRj-V0_000122_000132", "enCap": ["a man"]}, {"videoID": "G9zN5TTuGO4_000179_000189"}]
    annotations = write_json(tmp_path / "vatex_validation_v1.0.json", videos)
    touch(tmp_path, "Ptf_2VRj-V0_000122_000132.webm")
    items = load("vatex", annotations, tmp_path)
    assert [(item.item_id, item.split, Path(item.path).name) for item in items] == [
        ("Ptf_2VRj-V0_000122_000132", "val", "Ptf_2VRj-V0_000122_000132.webm"),
        ("G9zN5TTuGO4_000179_000189", "val", "G9zN5TTuGO4_000179_000189.mp4"),
    ]


def test_youcook2_subsets(tmp_path):
    database = {
        "GLd3aX16zBg": {"subset": "training", "recipe_type": "113", "annotations": []},
        "xHr8X2Wpmno": {"subset": "validation", "recipe_type": "101", "annotations": []},
    }
    annotations = write_json(tmp_path / "youcookii_annotations_trainval.json", {"database": database})
    touch(tmp_path, "raw_videos/validation/101/xHr8X2Wpmno.mkv")
    items = load("youcook2", annotations, tmp_path)
    assert [(item.item_id, item.split) for item in items] == [("GLd3aX16zBg", "train"), ("xHr8X2Wpmno", "val")]
    val = load("youcook2", annotations, tmp_path, split="validation")
    assert [item.path for item in val] == [str(tmp_path / "raw_videos" / "validation" / "101" / "xHr8X2Wpmno.mkv")]


def test_ivqa_and_nextqa_csv(tmp_path):
    ivqa = tmp_path / "test.csv"
    ivqa.write_text(
        "video_id,start,end,question,answer1\nyQ8TPmcNhsU,12,22,what is it,a cake\nyQ8TPmcNhsU,12,22,who,a man\n"
    )
    assert [(item.item_id, item.split) for item in load("ivqa", ivqa, tmp_path)] == [("yQ8TPmcNhsU", "test")]

    nextqa = tmp_path / "val.csv"
    nextqa.write_text("video,frame_count,width,height,question,answer,qid,type\n4010069381,369,640,480,why,2,6,CW\n")
    touch(tmp_path, "NExTVideo/1006/4010069381.mp4")
    assert load("nextqa", nextqa, tmp_path) == [
        BenchmarkItem("nextqa", "val", "4010069381", str(tmp_path / "NExTVideo/1006/4010069381.mp4"), "video")
    ]


def test_star(tmp_path):
    questions = [{"question_id": "Interaction_T1_13", "video_id": "6H78U", "start": 11.1, "end": 19.6}]
    questions.append({"question_id": "Interaction_T1_14", "video_id": "6H78U"})
    annotations = write_json(tmp_path / "STAR_val.json", questions)
    assert load("star", annotations, tmp_path) == [
        BenchmarkItem("star", "val", "6H78U", str(tmp_path / "6H78U.mp4"), "video")
    ]


def test_label_names_the_reported_benchmark(allennlp):
    annotations, images = allennlp
    items = load("vgqa", annotations / "vgqa" / "question_answers.json", images / "vgqa", label="vg-qa-subset")
    assert {item.benchmark for item in items} == {"vg-qa-subset"}


# --- registry, source spellings, errors -------------------------------------------------------------


def test_registry_names():
    video = {"msrvtt", "msvd", "msrvtt_qa", "msvd_qa", "vatex", "youcook2", "ivqa", "nextqa", "star"}
    image = {"coco", "flickr30k", "vqav2", "okvqa", "textvqa", "vizwiz", "hatefulmemes", "visdial", "gqa", "nlvr2"}
    assert set(BENCHMARKS) == video | image | {"snli_ve", "vgqa", "folder"}


@pytest.mark.parametrize(
    ("raw", "split"),
    [("val2014", "val"), ("test-dev2015", "testdev"), ("validation", "val"), ("dev_seen", "dev"), ("test1", "test1")],
)
def test_normalize_split(raw, split):
    assert normalize_split(raw) == split


@pytest.mark.parametrize(
    ("name", "split"),
    [
        ("captions_val2014.json", "val"),
        ("TextVQA_0.5.1_val.json", "val"),
        ("testdev_balanced_questions.json", "testdev"),
        ("test_unseen.jsonl", "test"),
        ("vatex_public_test_english_v1.1.json", "test"),
        ("question_answers.json", None),
    ],
)
def test_split_from_file_name(name, split):
    assert split_from_name(name) == split


def test_parse_source():
    assert parse_source("vqav2:annotations=/a/q.json,media=/imgs,split=val") == BenchmarkSource(
        name="vqav2", annotations="/a/q.json", media="/imgs", split="val"
    )
    assert parse_source("folder:media=/mine,label=private") == BenchmarkSource(
        name="folder", media="/mine", label="private"
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("vqav2", "expected NAME:"),
        ("vqav2:annotations=/q.json,media", "bad field"),
        ("vqav2:annotations=/q.json,media=/m,colour=red", "bad field"),
        ("vqav2:annotations=/q.json,media=/m,media=/n", "bad field"),
        ("vqa:annotations=/q.json,media=/m", "unknown benchmark 'vqa'; known: coco, flickr30k"),
        ("vqav2:media=/m", "needs annotations=PATH"),
        ("vqav2:annotations=/q.json", "needs media=DIR"),
        ("folder:media=/m", "needs label=NAME"),
        ("folder:media=/m,label=x,annotations=/a.json", "takes no annotations"),
    ],
)
def test_parse_source_errors(text, message):
    with pytest.raises(ValueError, match=message):
        parse_source(text)


def test_load_sources_file(tmp_path):
    config = tmp_path / "conf" / "benchmarks.yaml"
    config.parent.mkdir()
    config.write_text(
        "benchmarks:\n"
        "  - {name: vqav2, annotations: vqa/questions.json, media: /data/coco/val2014, split: val}\n"
        "  - {name: folder, media: ../private, label: private}\n"
    )
    assert load_sources_file(str(config)) == [
        BenchmarkSource("vqav2", "/data/coco/val2014", str(config.parent / "vqa/questions.json"), "val"),
        BenchmarkSource("folder", str(config.parent / "../private"), label="private"),
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("benchmarks: [", "not valid YAML"),
        ("- {name: coco}", "expected a YAML mapping"),
        ("benchmarks:\n  - {name: coco, media: /m, annotations: /a, colour: red}", "benchmark 1: unknown fields"),
        ("benchmarks:\n  - {media: /m}", "benchmark 1: expected a mapping with a name"),
        (
            "benchmarks:\n  - {name: coco, media: /m, annotations: /a}\n  - {name: nope, media: /m}",
            "benchmark 2: unknown",
        ),
    ],
)
def test_load_sources_file_errors(tmp_path, text, message):
    config = tmp_path / "benchmarks.yaml"
    config.write_text(text)
    with pytest.raises(ValueError, match=message) as error:
        load_sources_file(str(config))
    assert str(config) in str(error.value)


def test_missing_paths_are_named(tmp_path):
    annotations = write_json(tmp_path / "q.json", {"data_subtype": "val2014", "questions": []})
    with pytest.raises(FileNotFoundError, match=r"annotation file not found: .*nope\.json"):
        load_benchmark(BenchmarkSource("vqav2", str(tmp_path), str(tmp_path / "nope.json")))
    with pytest.raises(FileNotFoundError, match=r"media folder not found: .*no_media"):
        load_benchmark(BenchmarkSource("vqav2", str(tmp_path / "no_media"), str(annotations)))
    with pytest.raises(FileNotFoundError, match=r"sources\.yaml"):
        load_sources_file(str(tmp_path / "sources.yaml"))


def test_unknown_benchmark_lists_the_known(tmp_path):
    with pytest.raises(ValueError, match=r"unknown benchmark 'imagenet'; known: coco, .*youcook2"):
        load_benchmark(BenchmarkSource("imagenet", str(tmp_path), str(tmp_path)))


@pytest.mark.parametrize(
    ("name", "file_name", "content", "message"),
    [
        ("vqav2", "q.json", '{"questions": [', "not valid JSON, expected a VQA questions JSON"),
        ("vqav2", "q.json", '{"questions": []}', "expected a VQA questions JSON .*KeyError: 'data_subtype'"),
        ("vqav2", "q.json", '{"data_subtype": "val2014", "questions": [{"id": 1}]}', "KeyError: 'image_id'"),
        ("coco", "captions.json", "[1, 2]", "expected a COCO JSON"),
        ("gqa", "questions.json", '["a"]', "expected a GQA questions JSON"),
        ("vizwiz", "val.json", '{"image": "x.jpg"}', "expected a VizWiz JSON list"),
        ("vgqa", "qa.json", '{"id": 1}', "expected a Visual Genome JSON list"),
        ("textvqa", "val.json", '{"data": [{"image_id": "a"}]}', "KeyError: 'set_name'"),
        ("visdial", "val.json", '{"split": "val2018", "data": {}}', "expected a VisDial JSON"),
        ("nlvr2", "dev.json", '{"identifier": "dev-1-0-0"}\n{"identifier": ', r"dev.json:2: not valid JSON"),
        ("hatefulmemes", "dev.jsonl", '["img/1.png"]\n', "expected Hateful Memes JSON lines"),
        ("textvqa", "llava_val.jsonl", '{"question_id": 1}\n', "expected LLaVA question JSON lines"),
        ("snli_ve", "dev.jsonl", '{"pairID": 1}\n', "KeyError: 'Flickr30K_ID'"),
        ("flickr30k", "test.txt", "1016887272\na dog runs\n", "expected one Flickr30k image id a line"),
        ("flickr30k", "dataset_flickr30k.json", '{"images": [{"filename": "1.jpg"}]}', "KeyError: 'split'"),
        ("msrvtt", "test.csv", "key;vid_key;sentence\nret0;msr1;a cat\n", "'video_id' column"),
        ("msrvtt", "info.json", '{"videos": [{"video_id": "video0"}]}', "expected an MSR-VTT JSON"),
        ("msvd", "annotations.txt", "onlyanid\n", "expected MSVD lines"),
        ("vatex", "vatex_val.json", '{"videoID": "x"}', "expected a VATEX JSON list"),
        ("youcook2", "yc.json", '{"database": {"x": {}}}', "KeyError: 'subset'"),
        ("star", "STAR_val.json", '[{"question_id": "q"}]', "KeyError: 'video_id'"),
        ("nextqa", "val.csv", "video_id,question\n1,why\n", "'video' column"),
    ],
)
def test_broken_annotation_files_name_the_file_and_the_format(tmp_path, name, file_name, content, message):
    annotations = tmp_path / file_name
    annotations.write_text(content)
    with pytest.raises(ValueError, match=message) as error:
        load(name, annotations, tmp_path)
    assert str(annotations) in str(error.value)


def test_non_utf8_file_is_a_value_error(tmp_path):
    annotations = tmp_path / "test.txt"
    annotations.write_bytes(b"\xff\xfe\x00bad")
    with pytest.raises(ValueError, match="not UTF-8"):
        load("flickr30k", annotations, tmp_path)


def test_the_registry_imports_neither_beam_nor_pipelines():
    code = "import sys, dedup.benchmarks; print(sorted(m for m in sys.modules if m.split('.')[0] in ('apache_beam', 'pipelines')))"
    imported = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO_ROOT)
    assert imported.stdout.strip() == "[]"
