"""The registry's evaluation view: each example reader on its native file, agreeing with the decontamination loader."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dedup.benchmarks import (
    EXAMPLE_READERS,
    TASKS,
    AnnotationError,
    BenchmarkExample,
    BenchmarkSource,
    load_benchmark,
    load_examples,
    load_sources_file,
    parse_source,
)
from dedup.benchmarks.flickr30k import plain_caption

CLASSES = ("no", "yes")


def examples(name, annotations, media, **fields):
    source = BenchmarkSource(name=name, annotations=str(annotations), media=str(media), **fields)
    return list(load_examples(source))


def by_id(found):
    return {example.example_id: example for example in found}


def touch(folder, *names):
    for name in names:
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(b"")


def write_json(path, data):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data))
    return path


def write_lines(path, records):
    path.write_text("".join(json.dumps(record) + "\n" for record in records))
    return path


def write_text(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


# --- real annotation files -------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["vqav2", "okvqa"])
def test_vqa_questions_with_the_answers_of_the_sibling_annotations_file(allennlp, name):
    annotations, images = allennlp
    found = examples(name, annotations / "vqav2" / "questions.json", images / "vqav2")
    image = str(images / "vqav2" / "COCO_train2014_000000458752.jpg")
    assert [(e.example_id, e.item_id, e.split, e.path, e.media) for e in found] == [
        (question_id, "458752", "train", image, "image") for question_id in ("458752000", "458752001", "458752002")
    ]
    assert [e.question for e in found] == [
        "What is this photo taken looking through?",
        "What position is this man playing?",
        "What color is the players shirt?",
    ]
    assert found[0].answers == ("net", "net", "net", "netting", "net", "net", "mesh", "net", "pitcher", "orange")
    assert found[1].answers == ("pitcher", "catcher", *["pitcher"] * 8)
    assert found[2].answers == ("orange",) * 10
    assert {(e.benchmark, e.captions, e.classes, e.label) for e in found} == {(name, (), (), None)}


def test_vqa_answers_named_in_the_cli_spelling(allennlp, tmp_path):
    annotations, images = allennlp
    questions = write_json(tmp_path / "q.json", json.loads((annotations / "vqav2" / "questions.json").read_text()))
    # no sibling of q.json: no answers, unless the source names the file
    assert [e.answers for e in load_examples(parse_source(f"vqav2:annotations={questions},media={images}"))] == [()] * 3
    answers = annotations / "vqav2" / "annotations.json"
    source = parse_source(f"vqav2:annotations={questions},answers={answers},media={images / 'vqav2'}")
    assert source.answers == str(answers)
    assert [len(e.answers) for e in load_examples(source)] == [10, 10, 10]


def test_flickr30k_entities_captions_without_markup(allennlp):
    annotations, images = allennlp
    found = examples("flickr30k", annotations / "flickr30k" / "test.txt", images / "flickr30k")
    assert [e.example_id for e in found] == [e.item_id for e in found] == ["6338542128", "4945942737", "1", "2", "3"]
    football = found[0]
    assert football.path == str(images / "flickr30k" / "6338542128.jpg") and football.split == "test"
    assert len(football.captions) == 5
    assert football.captions[0] == (
        "On a sunny, dry day, wearing full football gear, a Texas A&M football player tries to reach "
        "an Iowa State football player, for the football during the game."
    )
    assert football.captions[4] == "# 8 for Iowa State stiff arms a Texas AM player attempting to tackle him."
    assert found[4].captions[0] == "A girl without brown hair sits on the edge of a cement area overlooking water."
    assert [e.captions for e in found[1:4]] == [(), (), ()]  # no sentences file


def test_msrvtt_jsfusion_csv_captions(testdata, tmp_path):
    found = examples("msrvtt", testdata / "annotations" / "msrvtt" / "MSRVTT_JSFUSION_test.csv", tmp_path)
    assert len(found) == 1000
    assert found[0] == BenchmarkExample(
        "msrvtt",
        "test",
        "video9770",
        "video9770",
        str(tmp_path / "video9770.mp4"),
        "video",
        captions=("a person is connecting something to system",),
    )


def test_llava_textvqa_questions_are_the_first_line(testdata, tmp_path):
    annotations = testdata / "annotations" / "llava_eval" / "textvqa_llava_textvqa_val_v051_ocr.jsonl"
    found = examples("textvqa", annotations, tmp_path)
    assert len(found) == len(by_id(found)) == 5000  # LLaVA repeats the image id as question id: made distinct
    assert found[0] == BenchmarkExample(
        "textvqa",
        "val",
        "003a8ae2ef43b901",
        "003a8ae2ef43b901",
        str(tmp_path / "003a8ae2ef43b901.jpg"),
        question="What is the brand of this camera?",
    )
    second = next(e for e in found if e.example_id.endswith("#2"))
    first = by_id(found)[second.item_id]
    assert second.example_id == f"{first.example_id}#2" and second.question != first.question


def test_folder_of_real_images_in_class_folders(testdata):
    root = testdata / "images" / "allennlp_benchmarks"
    found = list(load_examples(parse_source(f"folder:media={root},label=allennlp")))
    assert len(found) == 57
    classes = ("flickr30k", "gqa", "nlvr2", "vgqa", "visual entailment", "vqav2")
    assert {e.classes for e in found} == {classes}
    first = found[0]
    assert (first.benchmark, first.example_id, first.item_id, first.label) == (
        "allennlp",
        "flickr30k/1.jpg",
        "flickr30k/1.jpg",
        0,
    )
    assert {classes[e.label] for e in found if e.item_id.startswith("visual_entailment/")} == {"visual entailment"}


# --- published formats, on small files written here ------------------------------------------------


def test_vqa_official_sibling_name_and_test_dev(tmp_path):
    questions = [
        {"image_id": 15, "question": "Is it red?", "question_id": 150},
        {"image_id": 9, "question": "How many?", "question_id": 90},
    ]
    val = write_json(
        tmp_path / "v2_OpenEnded_mscoco_val2014_questions.json", {"data_subtype": "val2014", "questions": questions}
    )
    write_json(
        tmp_path / "v2_mscoco_val2014_annotations.json",
        {
            "annotations": [
                {"question_id": 150, "image_id": 15, "answers": [{"answer": "yes", "answer_id": 1}, {"answer": "no"}]}
            ]
        },
    )
    found = examples("okvqa", val, tmp_path)
    assert [(e.example_id, e.item_id, e.split, e.answers, Path(e.path).name) for e in found] == [
        ("150", "15", "val", ("yes", "no"), "COCO_val2014_000000000015.jpg"),
        ("90", "9", "val", (), "COCO_val2014_000000000009.jpg"),
    ]
    # test-dev has no answers file: the examples come all the same, to be counted
    testdev = write_json(
        tmp_path / "v2_OpenEnded_mscoco_test-dev2015_questions.json",
        {"data_subtype": "test-dev2015", "questions": questions},
    )
    first = examples("vqav2", testdev, tmp_path)[0]
    assert (first.split, first.answers, Path(first.path).name) == (
        "testdev",
        (),
        "COCO_test2015_000000000015.jpg",
    )


def test_answers_in_the_yaml_spelling_are_resolved_and_checked(tmp_path):
    questions = write_json(
        tmp_path / "vqa" / "q.json",
        {"data_subtype": "val2014", "questions": [{"image_id": 1, "question": "?", "question_id": 10}]},
    )
    write_json(tmp_path / "vqa" / "a.json", {"annotations": [{"question_id": 10, "answers": [{"answer": "two"}]}]})
    config = write_text(
        tmp_path / "benchmarks.yaml",
        "benchmarks:\n  - {name: vqav2, annotations: vqa/q.json, answers: vqa/a.json, media: .}\n",
    )
    [source] = load_sources_file(str(config))
    assert source == BenchmarkSource(
        "vqav2", str(tmp_path / "."), str(questions), answers=str(tmp_path / "vqa" / "a.json")
    )
    assert [e.answers for e in load_examples(source)] == [("two",)]
    # decontamination reads the questions alone, as before
    assert [item.item_id for item in load_benchmark(source)] == ["1"]

    missing = BenchmarkSource("vqav2", str(tmp_path), str(questions), answers=str(tmp_path / "nope.json"))
    with pytest.raises(FileNotFoundError, match=r"answers file not found: .*nope\.json"):
        load_examples(missing)
    with pytest.raises(ValueError, match="'coco' takes no answers=PATH"):
        parse_source(f"coco:annotations={questions},answers={questions},media={tmp_path}")


def test_coco_captions_grouped_per_image(tmp_path):
    images = [{"id": 60623, "file_name": "COCO_val2014_000000060623.jpg"}, {"id": 1, "file_name": "COCO_val2014_1.jpg"}]
    captions = [
        {"image_id": 60623, "id": 7, "caption": "a plate of food"},
        {"image_id": 1, "id": 8, "caption": "a dog"},
        {"image_id": 60623, "id": 9, "caption": "dinner on a table"},
    ]
    annotations = write_json(tmp_path / "captions_val2014.json", {"images": images, "annotations": captions})
    found = examples("coco", annotations, tmp_path)
    assert found == [
        BenchmarkExample("coco", "val", "60623", "60623", str(tmp_path / "COCO_val2014_000000060623.jpg"), captions=("a plate of food", "dinner on a table")),
        BenchmarkExample("coco", "val", "1", "1", str(tmp_path / "COCO_val2014_1.jpg"), captions=("a dog",)),
    ]  # fmt: skip
    # an image-info file (test split) lists the images without captions
    info = write_json(tmp_path / "image_info_test2014.json", {"images": images})
    assert [(e.split, e.captions) for e in examples("coco", info, tmp_path)] == [("test", ()), ("test", ())]


@pytest.mark.parametrize("name", ["coco", "flickr30k"])
def test_karpathy_captions_are_the_raw_sentences(tmp_path, name):
    images = [
        {"filepath": "val2014", "filename": "COCO_val2014_000000000042.jpg", "cocoid": 42, "split": "test",
         "sentences": [{"raw": "A man rides a horse.", "tokens": ["a", "man"]}, {"raw": "A rider."}]},
        {"filepath": "val2014", "filename": "COCO_val2014_000000000044.jpg", "cocoid": 44, "split": "train",
         "sentences": [{"raw": "Two cats."}]},
    ]  # fmt: skip
    annotations = write_json(tmp_path / "dataset_coco.json", {"images": images, "dataset": "coco"})
    found = examples(name, annotations, tmp_path, split="test")
    assert found == [
        BenchmarkExample(name, "test", "42", "42", str(tmp_path / "val2014" / "COCO_val2014_000000000042.jpg"), captions=("A man rides a horse.", "A rider."))
    ]  # fmt: skip


def test_flickr30k_capitalised_sentences_folder(tmp_path):
    split_file = write_text(tmp_path / "entities" / "val.txt", "10002456\n")
    write_text(
        tmp_path / "entities" / "Sentences" / "10002456.txt",
        "[/EN#1/people/other Two men] , tired , rest [/EN#2/scene in the yard] .\n\n",
    )
    [found] = examples("flickr30k", split_file, tmp_path)
    assert (found.split, found.captions) == ("val", ("Two men, tired, rest in the yard.",))


@pytest.mark.parametrize(
    ("marked", "plain"),
    [
        ("[/EN#221796/people A girl] sits [/EN#221798/scene overlooking water] .", "A girl sits overlooking water."),
        ("[/EN#1/people A man] [/EN#0/notvisual who] ?", "A man who?"),
        ("no markup here", "no markup here"),
    ],
)
def test_plain_caption(marked, plain):
    assert plain_caption(marked) == plain


def test_textvqa_official_json(tmp_path):
    data = [
        {"question_id": 34602, "question": "what brand?", "image_id": "0054c91397f2fe05", "set_name": "train", "answers": ["nous"] * 2},
        {"question_id": 34603, "question": "why?", "image_id": "003a8ae2ef43b901", "set_name": "val", "answers": ["dakota", "digital"]},
        {"question_id": 34604, "question": "who?", "image_id": "0000599864fd15b3", "set_name": "test"},
    ]  # fmt: skip
    annotations = write_json(tmp_path / "TextVQA_0.5.1_val.json", {"dataset_name": "textvqa", "data": data})
    found = examples("textvqa", annotations, tmp_path)
    assert [(e.example_id, e.item_id, e.split, e.question, e.answers) for e in found] == [
        ("34602", "0054c91397f2fe05", "train", "what brand?", ("nous", "nous")),
        ("34603", "003a8ae2ef43b901", "val", "why?", ("dakota", "digital")),
        ("34604", "0000599864fd15b3", "test", "who?", ()),
    ]
    assert [e.example_id for e in examples("textvqa", annotations, tmp_path, split="val")] == ["34603"]


def test_vizwiz_one_question_per_image(tmp_path):
    questions = [
        {"image": "VizWiz_val_00000000.jpg", "question": "What is this?", "answerable": 1,
         "answers": [{"answer": "soup", "answer_confidence": "yes"}, {"answer": "unanswerable", "answer_confidence": "no"}]},
        {"image": "VizWiz_test_00000007.jpg", "question": "Which colour?"},
    ]  # fmt: skip
    annotations = write_json(tmp_path / "val.json", questions)
    found = examples("vizwiz", annotations, tmp_path)
    assert found == [
        BenchmarkExample("vizwiz", "val", "VizWiz_val_00000000", "VizWiz_val_00000000", str(tmp_path / "VizWiz_val_00000000.jpg"), question="What is this?", answers=("soup", "unanswerable")),
        BenchmarkExample("vizwiz", "test", "VizWiz_test_00000007", "VizWiz_test_00000007", str(tmp_path / "VizWiz_test_00000007.jpg"), question="Which colour?"),
    ]  # fmt: skip


def test_hateful_memes_labels(tmp_path):
    memes = [
        {"id": 42953, "img": "img/42953.png", "label": 0, "text": "its their character not their color"},
        {"id": 23058, "img": "img/23058.png", "label": 1, "text": "b"},
        {"id": 16395, "img": "img/16395.png", "text": "c"},
    ]
    annotations = write_lines(tmp_path / "dev_seen.jsonl", memes)
    found = examples("hatefulmemes", annotations, tmp_path, label="memes")
    assert found[0] == BenchmarkExample(
        "memes", "dev", "42953", "42953", str(tmp_path / "img" / "42953.png"),
        text="its their character not their color", classes=CLASSES, label=0,
    )  # fmt: skip
    assert [(e.text, e.classes, e.label) for e in found[1:]] == [("b", CLASSES, 1), ("c", CLASSES, None)]


def test_msrvtt_videodatainfo_captions(tmp_path):
    videos = [{"video_id": "video0", "split": "train"}, {"video_id": "video6513", "split": "validate"}]
    sentences = [
        {"video_id": "video6513", "caption": "a man talks", "sen_id": 1},
        {"video_id": "video0", "caption": "a cartoon", "sen_id": 2},
        {"video_id": "video6513", "caption": "a man speaks", "sen_id": 3},
    ]
    annotations = write_json(tmp_path / "train_val_videodatainfo.json", {"videos": videos, "sentences": sentences})
    touch(tmp_path, "TrainValVideo/video6513.mp4")
    found = examples("msrvtt", annotations, tmp_path, split="val")
    assert found == [
        BenchmarkExample("msrvtt", "val", "video6513", "video6513", str(tmp_path / "TrainValVideo" / "video6513.mp4"), "video", captions=("a man talks", "a man speaks"))
    ]  # fmt: skip


def test_msvd_captions(tmp_path):
    annotations = write_text(
        tmp_path / "annotations.txt",
        "-4wsuPCjDBc_5_15 a squirrel is eating a peanut\n-4wsuPCjDBc_5_15 a chipmunk eats\n\nzv2RIbUsnSw_335_341 a man plays\n",
    )
    found = examples("msvd", annotations, tmp_path, split="test")
    assert [(e.example_id, e.item_id, e.split, e.media, e.captions) for e in found] == [
        ("-4wsuPCjDBc_5_15", "-4wsuPCjDBc_5_15", "test", "video", ("a squirrel is eating a peanut", "a chipmunk eats")),
        ("zv2RIbUsnSw_335_341", "zv2RIbUsnSw_335_341", "test", "video", ("a man plays",)),
    ]


QA = [
    {"answer": "clip", "id": 0, "question": "what is a video game character doing?", "video_id": 7010},
    {"answer": "man", "id": 1, "question": "who talks?", "video_id": 7010},
    {"answer": "dance", "id": 2, "question": "what do they do?", "video_id": 7},
]


def test_msrvtt_qa(tmp_path):
    annotations = write_json(tmp_path / "test_qa.json", QA)
    touch(tmp_path, "TestVideo/video7010.mp4")
    found = examples("msrvtt_qa", annotations, tmp_path)
    assert found[0] == BenchmarkExample(
        "msrvtt_qa", "test", "0", "video7010", str(tmp_path / "TestVideo" / "video7010.mp4"), "video",
        question="what is a video game character doing?", answers=("clip",),
    )  # fmt: skip
    assert [(e.example_id, e.item_id, e.answers) for e in found[1:]] == [
        ("1", "video7010", ("man",)),
        ("2", "video7", ("dance",)),
    ]
    items = list(load_benchmark(BenchmarkSource("msrvtt_qa", str(tmp_path), str(annotations))))
    assert [(item.item_id, item.split, item.media) for item in items] == [
        ("video7010", "test", "video"),
        ("video7", "test", "video"),
    ]


def test_msvd_qa_videos_by_their_youtube_names(tmp_path):
    annotations = write_json(tmp_path / "qa" / "val_qa.json", QA)
    found = examples("msvd_qa", annotations, tmp_path)
    assert [(e.item_id, e.split, e.path) for e in found[::2]] == [
        ("vid7010", "val", str(tmp_path / "vid7010.mp4")),
        ("vid7", "val", str(tmp_path / "vid7.mp4")),
    ]
    write_text(tmp_path / "qa" / "youtube_mapping.txt", "-4wsuPCjDBc_5_15 vid7\nzv2RIbUsnSw_335_341 vid7010\n")
    touch(tmp_path, "YouTubeClips/-4wsuPCjDBc_5_15.avi")
    found = examples("msvd_qa", annotations, tmp_path)
    assert [(e.item_id, e.path) for e in found[::2]] == [
        ("vid7010", str(tmp_path / "zv2RIbUsnSw_335_341.mp4")),  # not there: the native name, counted missing
        ("vid7", str(tmp_path / "YouTubeClips" / "-4wsuPCjDBc_5_15.avi")),
    ]
    assert [e.answers for e in found] == [("clip",), ("man",), ("dance",)]


def test_folder_classes_are_the_sorted_class_folders(tmp_path):
    touch(
        tmp_path,
        "n02_tiger_shark/b.JPEG",
        "golden_retriever/x.jpg",
        "golden_retriever/sub/y.png",
        "tench/a.jpg",
        "notes.txt",
    )
    found = list(load_examples(parse_source(f"folder:media={tmp_path},label=imagenet,split=val")))
    classes = ("golden retriever", "n02 tiger shark", "tench")
    assert [(e.example_id, e.item_id, e.label) for e in found] == [
        ("golden_retriever/sub/y.png", "golden_retriever/sub/y.png", 0),
        ("golden_retriever/x.jpg", "golden_retriever/x.jpg", 0),
        ("n02_tiger_shark/b.JPEG", "n02_tiger_shark/b.JPEG", 1),
        ("tench/a.jpg", "tench/a.jpg", 2),
    ]
    assert {(e.benchmark, e.split, e.classes) for e in found} == {("imagenet", "val", classes)}

    touch(tmp_path, "loose.jpg")
    with pytest.raises(AnnotationError, match=r"loose\.jpg: expected every file .* in a class folder"):
        list(load_examples(parse_source(f"folder:media={tmp_path},label=imagenet")))


# --- errors ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "file_name", "content", "message"),
    [
        ("coco", "captions_val2014.json", '{"images": [], "annotations": [{"image_id": 1}]}', "KeyError: 'caption'"),
        ("coco", "dataset_coco.json", '{"images": [{"filename": "a.jpg", "split": "val"}]}', "KeyError: 'sentences'"),
        ("flickr30k", "test.txt", "1016887272 a dog\n", "expected one Flickr30k image id a line"),
        ("vqav2", "q.json", '{"data_subtype": "val2014", "questions": [{"image_id": 1}]}', "KeyError: 'question_id'"),
        ("textvqa", "TextVQA_val.json", '{"data": [{"image_id": "a", "set_name": "val"}]}', "KeyError: 'question_id'"),
        ("textvqa", "llava_val.jsonl", '{"question_id": 1, "image": "a.jpg"}\n', "KeyError: 'text'"),
        ("vizwiz", "val.json", '[{"image": "VizWiz_val_1.jpg", "question": "?", "answers": ["a"]}]', "expected a VizWiz JSON list"),
        ("hatefulmemes", "dev.jsonl", '{"id": 1, "img": "img/1.png", "text": "t", "label": 3}\n', "label 3 of meme 1"),
        ("msrvtt", "test.csv", "key;vid_key;video_id\nret0;msr1;video1\n", "'sentence' column"),
        ("msrvtt", "info.json", '{"videos": [{"video_id": "video0", "split": "train"}]}', "KeyError: 'sentences'"),
        ("msvd", "annotations.txt", "onlyanid\n", "expected MSVD lines"),
        ("msrvtt_qa", "test_qa.json", '{"video_id": 1}', "expected a MSRVTT-QA JSON list"),
        ("msvd_qa", "test_qa.json", '[{"id": 1, "video_id": 1, "question": "?"}]', "KeyError: 'answer'"),
    ],
)  # fmt: skip
def test_broken_files_name_the_file_and_the_format(tmp_path, name, file_name, content, message):
    annotations = write_text(tmp_path / file_name, content)
    with pytest.raises(AnnotationError, match=message) as error:
        examples(name, annotations, tmp_path)
    assert str(annotations) in str(error.value)


def test_broken_answers_file_is_named(tmp_path):
    questions = write_json(tmp_path / "questions.json", {"data_subtype": "val2014", "questions": []})
    answers = write_json(tmp_path / "annotations.json", {"annotations": [{"question_id": 1}]})
    with pytest.raises(AnnotationError, match=r"expected a VQA annotations JSON .*KeyError: 'answers'") as error:
        examples("vqav2", questions, tmp_path)
    assert str(answers) in str(error.value)


def test_broken_youtube_mapping_is_named(tmp_path):
    annotations = write_json(tmp_path / "test_qa.json", QA)
    mapping = write_text(tmp_path / "youtube_mapping.txt", "only_one_field\n")
    with pytest.raises(AnnotationError, match="expected lines 'YOUTUBEID_START_END vidN'") as error:
        examples("msvd_qa", annotations, tmp_path)
    assert str(mapping) in str(error.value)


def test_only_the_evaluable_can_be_read_and_paths_are_checked_first(tmp_path, allennlp):
    annotations, images = allennlp
    gqa = BenchmarkSource("gqa", str(images / "gqa"), str(annotations / "gqa" / "questions.json"))
    with pytest.raises(ValueError, match=r"benchmark 'gqa' cannot be evaluated; evaluable: coco, flickr30k, .*vqav2"):
        load_examples(gqa)
    with pytest.raises(ValueError, match="unknown benchmark 'imagenet'"):
        load_examples(BenchmarkSource("imagenet", str(tmp_path), str(tmp_path)))
    with pytest.raises(FileNotFoundError, match=r"annotation file not found: .*nope\.json"):
        load_examples(BenchmarkSource("coco", str(tmp_path), str(tmp_path / "nope.json")))
    with pytest.raises(FileNotFoundError, match=r"media folder not found: .*no_media"):
        load_examples(
            BenchmarkSource("vqav2", str(tmp_path / "no_media"), str(annotations / "vqav2" / "questions.json"))
        )


# --- the two views agree -------------------------------------------------------------------------------


def agreement_sources(testdata: Path, tmp: Path) -> dict[str, BenchmarkSource]:
    """A source per evaluable benchmark, on the real files where there are some, else on small files written here."""
    annotations, images = testdata / "annotations" / "allennlp_benchmarks", testdata / "images" / "allennlp_benchmarks"
    memes = [{"id": 1, "img": "img/1.png", "label": 1, "text": "a"}, {"id": 2, "img": "img/2.png", "text": "b"}]
    vizwiz = [
        {"image": "VizWiz_val_00000001.jpg", "question": "?"},
        {"image": "VizWiz_test_00000002.jpg", "question": "!"},
    ]
    textvqa = [
        {"question_id": q, "question": "?", "image_id": i, "set_name": "val"} for q, i in ((1, "a"), (2, "b"), (3, "a"))
    ]
    coco = {
        "images": [{"id": 5, "file_name": "5.jpg"}, {"id": 6, "file_name": "6.jpg"}],
        "annotations": [{"image_id": 5, "caption": "x"}],
    }
    touch(tmp / "folder", "cats/1.jpg", "dogs/2.png", "dogs/3.mp4")

    def source(name, annotation_file, media=tmp):
        return BenchmarkSource(name, str(media), str(annotation_file))

    return {
        "coco": source("coco", write_json(tmp / "captions_val2014.json", coco)),
        "flickr30k": source("flickr30k", annotations / "flickr30k" / "test.txt", images / "flickr30k"),
        "vqav2": source("vqav2", annotations / "vqav2" / "questions.json", images / "vqav2"),
        "okvqa": source("okvqa", annotations / "vqav2" / "questions.json", images / "vqav2"),
        "textvqa": source("textvqa", write_json(tmp / "TextVQA_0.5.1_val.json", {"data": textvqa})),
        "vizwiz": source("vizwiz", write_json(tmp / "vizwiz.json", vizwiz)),
        "hatefulmemes": source("hatefulmemes", write_lines(tmp / "dev.jsonl", memes)),
        "msrvtt": source("msrvtt", testdata / "annotations" / "msrvtt" / "MSRVTT_JSFUSION_test.csv"),
        "msvd": source("msvd", write_text(tmp / "annotations.txt", "a_1_2 x\nb_3_4 y\na_1_2 z\n")),
        "msrvtt_qa": source("msrvtt_qa", write_json(tmp / "msrvtt" / "test_qa.json", QA)),
        "msvd_qa": source("msvd_qa", write_json(tmp / "msvd" / "test_qa.json", QA)),
        "folder": BenchmarkSource("folder", str(tmp / "folder"), label="pets"),
    }


def test_tasks_and_readers_name_the_same_benchmarks(testdata, tmp_path):
    assert set(TASKS) == set(EXAMPLE_READERS) == set(agreement_sources(testdata, tmp_path))
    assert set(TASKS.values()) == {"captioning", "vqa", "classification"}


@pytest.mark.parametrize("name", sorted(TASKS))
def test_examples_and_items_name_the_same_media(testdata, tmp_path, name):
    source = agreement_sources(testdata, tmp_path)[name]
    found = list(load_examples(source))
    items = {item.item_id: item for item in load_benchmark(source)}
    assert found and {e.item_id for e in found} == set(items)
    for example in found:
        item = items[example.item_id]
        assert (example.benchmark, example.split, example.path, example.media) == (
            item.benchmark,
            item.split,
            item.path,
            item.media,
        )
    assert len({e.example_id for e in found}) == len(found)
