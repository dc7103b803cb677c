"""`trainer eval` and `trainer generate` on a real trained checkpoint: the tiny preset trained on the
curated shapes website (conftest.shapes_model), evaluated on held-out drawings through a class-folder
task and on the real VQAv2 and Flickr30k fixtures."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import torch
from shapes import CLASSES, class_phrase, held_out_images

from trainer import checkpoint
from trainer.cli import main
from trainer.config import load_config
from trainer.evaluation.coverage import coverage_warnings
from trainer.evaluation.inference import Prompt, continuation_log_likelihoods, generate
from trainer.evaluation.loading import load_model
from trainer.evaluation.media import MediaCache

CHANCE = 1 / len(CLASSES)


@pytest.fixture(scope="module")
def loaded(shapes_model):
    return load_model(str(shapes_model.checkpoints), "cpu")


@pytest.fixture(scope="module")
def held_out_folder(tmp_path_factory) -> Path:
    """Fresh drawings of every class in ImageNet-style class folders (a_red_circle/000.jpg, ...)."""
    root = tmp_path_factory.mktemp("held-out")
    for number, (image, label) in enumerate(held_out_images(per_class=10, seed=1)):
        folder = root / class_phrase(label).replace(" ", "_")
        folder.mkdir(exist_ok=True)
        image.save(folder / f"{number:03d}.jpg", quality=90)
    return root


def test_a_checkpoint_loads_back_to_the_model_that_was_trained(shapes_model, loaded):
    assert (shapes_model.checkpoints / checkpoint.FROZEN_FILE).is_file()  # the tiny preset's frozen parts are random
    assert loaded.step == shapes_model.trainer.step
    tok = loaded.tokenizer
    ids = torch.tensor([tok.encode("<image>a red circle on a poster")])
    images = torch.randn(1, 1, 1, 3, loaded.images.size, loaded.images.size)
    trained = shapes_model.trainer.model.eval()
    with torch.no_grad():
        expected = trained(ids, images=images).logits
        got = loaded.model(ids, images=images).logits
    assert torch.equal(expected, got)


def test_batched_prompts_score_and_generate_as_they_do_alone(loaded, held_out_folder):
    media = MediaCache(loaded.images, loaded.frames)
    paths = sorted(held_out_folder.rglob("*.jpg"))
    long = Prompt(
        f"<image>Output: {class_phrase(0)}<EOC><image>Output: {class_phrase(4)}<EOC><image>Output:",
        [media(str(p)) for p in paths[:3]],
    )
    short = Prompt("<image>Output:", [media(str(paths[5]))])
    for beams in (1, 3):
        together = generate(loaded, [long, short], 6, beams=beams)
        assert together == [generate(loaded, [long], 6, beams=beams)[0], generate(loaded, [short], 6, beams=beams)[0]]
    candidates = [class_phrase(i) for i in range(len(CLASSES))]
    together = continuation_log_likelihoods(loaded, [long, short], [candidates, candidates])
    alone = [continuation_log_likelihoods(loaded, [p], [candidates])[0] for p in (long, short)]
    assert torch.allclose(torch.tensor(together), torch.tensor(alone), atol=1e-4)


def test_trainer_eval_of_held_out_shapes_beats_chance(shapes_model, held_out_folder, tmp_path, capsys):
    output = tmp_path / "shapes.json"
    code = main(
        ["eval", "--checkpoint", str(shapes_model.checkpoints), "--task", "shapes",
         "--source", f"folder:media={held_out_folder},label=shapes", "--shots", "0,2", "--no_progress",
         "--output", str(output)]
    )  # fmt: skip
    printed = capsys.readouterr()
    assert code == 0, printed.err
    print(printed.out)
    results = json.loads(output.read_text())
    by_shots = {r["shots"]: r for r in results["results"]}
    assert by_shots[0]["metric"] == "accuracy" and by_shots[0]["queries"] == len(CLASSES) * 10
    assert by_shots[0]["value"] >= 4 * CHANCE, by_shots
    # trained on one image per sample, so 2-shot prompts (three images) are out of distribution: it
    # still beats chance, by less
    assert by_shots[2]["queries"] == by_shots[0]["queries"] and by_shots[2]["value"] > CHANCE, by_shots
    assert "shapes" in printed.out and "accuracy" in printed.out
    # trained on data decontaminated against nothing: the score means less, and eval says so
    assert "without decontamination" in printed.err


def test_trainer_eval_on_the_real_vqav2_and_flickr30k_fixtures(shapes_model, testdata, tmp_path, capsys):
    vqa = testdata / "annotations/allennlp_benchmarks/vqav2"
    output = tmp_path / "vqav2.json"
    code = main(
        ["eval", "--checkpoint", str(shapes_model.checkpoints), "--task", "vqav2", "--shots", "0", "--no_progress",
         "--source", f"vqav2:annotations={vqa}/questions.json,media={testdata}/images/allennlp_benchmarks/vqav2",
         "--output", str(output)]
    )  # fmt: skip
    printed = capsys.readouterr()
    assert code == 0, printed.err
    vqa_results = json.loads(output.read_text())["results"][0]
    assert vqa_results["metric"] == "vqa_accuracy" and vqa_results["queries"] == 3
    assert 0.0 <= vqa_results["value"] <= 1.0 and len(vqa_results["predictions"]) == 3

    # Flickr30k Entities: the test split file, and a train split beside it (the same Sentences/ folder)
    # whose one image is the demonstration of the 1-shot prompt. Of the test images only 6338542128 and
    # 3 have sentences; 3 is the train image, so only the first test query (--limit 1) can have a 1-shot prompt.
    entities = testdata / "annotations/allennlp_benchmarks/flickr30k"
    flickr = tmp_path / "flickr30k"
    flickr.mkdir()
    os.symlink(entities / "sentences", flickr / "sentences")
    (flickr / "test.txt").write_text((entities / "test.txt").read_text())
    (flickr / "train.txt").write_text("3\n")
    images = testdata / "images/allennlp_benchmarks/flickr30k"
    output = tmp_path / "flickr30k.json"
    code = main(
        ["eval", "--checkpoint", str(shapes_model.checkpoints), "--task", "flickr30k", "--shots", "0,1",
         "--source", f"flickr30k:annotations={flickr}/test.txt,media={images}",
         "--source", f"flickr30k:annotations={flickr}/train.txt,media={images}",
         "--limit", "1", "--no_progress", "--output", str(output)]
    )  # fmt: skip
    printed = capsys.readouterr()
    assert code == 0, printed.err
    print(printed.out)
    document = json.loads(output.read_text())
    assert document["query_split"] == "test" and document["support_splits"] == ["train"]
    assert document["skipped"] == {"no reference captions": 3}  # test.txt ids without a Sentences file
    assert [(r["shots"], r["metric"], r["queries"]) for r in document["results"]] == [(0, "cider", 1), (1, "cider", 1)]
    assert all(r["value"] >= 0 for r in document["results"])
    assert "flickr30k" in printed.out and "cider" in printed.out


def test_trainer_eval_refuses_what_it_cannot_run(shapes_model, held_out_folder, capsys):
    base = ["eval", "--checkpoint", str(shapes_model.checkpoints), "--no_progress"]
    assert main([*base, "--task", "shapes"]) == 2
    assert "--benchmarks FILE or --source" in capsys.readouterr().err
    source = f"folder:media={held_out_folder},label=shapes"
    assert main([*base, "--task", "shapes", "--source", source, "--shots", "500"]) == 2
    assert "500 shots need as many support examples" in capsys.readouterr().err
    assert main([*base, "--task", "coco", "--source", source]) == 2
    assert "no benchmark source for task 'coco'" in capsys.readouterr().err


def test_trainer_generate_answers_from_a_checkpoint(shapes_model, held_out_folder, capsys):
    image = str(next(held_out_folder.rglob("*.jpg")))
    base = ["generate", "--checkpoint", str(shapes_model.checkpoints), "--image", image, "--max_new_tokens", "4"]
    assert main([*base, "--prompt", "<image>"]) == 0
    assert capsys.readouterr().out.strip()  # the model describes the drawing in words it learnt
    assert main([*base, "--prompt", "<image><image>Output:"]) == 2
    assert "2 <image> for 1 media" in capsys.readouterr().err


def test_coverage_warnings_name_the_index_and_what_it_lacks(tmp_path):
    index = tmp_path / "benchmark-index"
    index.mkdir()
    (index / "index.json").write_text(json.dumps({"benchmarks": {"coco": {}, "vqav2": {}}}))
    decontaminated, plain = tmp_path / "decontaminated", tmp_path / "plain"
    for folder, options in ((decontaminated, {"images": {"decontamination": {"index": str(index)}}}), (plain, {})):
        folder.mkdir()
        (folder / "stats.json").write_text(json.dumps({"provenance": {"options": options}}))
    config = load_config(None, base={"datasets": {"align": {"paths": [str(decontaminated)]}}})
    assert coverage_warnings(config, "coco") == []
    (warning,) = coverage_warnings(config, "flickr30k")
    assert str(index) in warning and "holds coco, vqav2 but not flickr30k" in warning
    config = load_config(None, base={"datasets": {"align": {"paths": [str(plain)]}, "m3w": {"paths": [str(tmp_path)]}}})
    warnings = coverage_warnings(config, "coco")
    assert any("without decontamination" in w for w in warnings)
    assert any("no stats.json" in w for w in warnings)
