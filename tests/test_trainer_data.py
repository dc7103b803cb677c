"""trainer/data on real shards: shards written with the project's own writer, real JPEGs, a real
sentencepiece tokenizer, and real DataLoader workers.

Images are solid grey squares whose level encodes a number (`numbered_jpeg`), so a test can tell from
the pixels which image or frame ended up where; captions name their sample, so a test can tell from a
batch's tokens which samples it holds.
"""

from __future__ import annotations

import io
import json
import random
from collections import Counter
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
import torch
from PIL import Image

from schemas import ImageSegment, ImageTextPair, InterleavedDocument, TextSegment, stable_key
from schemas.records import VideoTextPair
from schemas.samples import Sample, document_to_sample, pair_to_sample, video_to_sample
from schemas.version import UnsupportedFormatVersion
from shards.manifest import manifest_row, rows_to_parquet
from shards.tar_writer import write_samples
from trainer.data.batch import IGNORE_INDEX, Batch, collate
from trainer.data.examples import Example, ExampleBuilder, OtherKind, SequenceSettings
from trainer.data.images import BadImage, ImageSettings, load_image, normalise
from trainer.data.sources import DatasetError, resolve_shards
from trainer.data.stream import DatasetLoader, StreamPosition, StreamSettings
from trainer.tokenizer import FlamingoTokenizer, train_sentencepiece

SIZE = 16  # the vision tower's input side in these tests
CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)
IMAGES = ImageSettings(size=SIZE, mean=CLIP_MEAN, std=CLIP_STD)
LEVEL_STEP = 20  # grey levels between consecutive numbered images
WORDS = [
    *("the", "a", "picture", "of", "cat", "dog", "house", "river", "tree", "sky", "blue", "red", "green"),
    *("small", "large", "old", "new", "city", "street", "garden", "window", "door", "light", "morning"),
    *("evening", "people", "walking", "running", "table", "chair", "book", "paper", "music", "song"),
    *("water", "mountain", "road", "car", "train", "bird", "flower", "caption", "sample", "shard", "good"),
]


# -- helpers: tokenizer, images, samples, shards --------------------------------------------------


@pytest.fixture(scope="module")
def tokenizer(tmp_path_factory: pytest.TempPathFactory) -> FlamingoTokenizer:
    rnd = random.Random(0)
    texts = [" ".join(rnd.choices(WORDS, k=12)) + "." for _ in range(400)]
    folder = train_sentencepiece(texts, str(tmp_path_factory.mktemp("spm")), vocab_size=400)
    return FlamingoTokenizer.from_pretrained(folder)


def solid_jpeg(colour: tuple[int, int, int], size: tuple[int, int] = (24, 24)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, "JPEG", quality=95)
    return out.getvalue()


def numbered_jpeg(number: int) -> bytes:
    level = 10 + LEVEL_STEP * number
    return solid_jpeg((level, level, level))


def numbers_of(media: np.ndarray | torch.Tensor) -> list[int]:
    """The number of each picture in media [..., 3, S, S], read back from its grey level."""
    pictures = np.asarray(media).reshape(-1, 3, SIZE, SIZE).astype(np.float64)
    return [round((picture.mean() - 10) / LEVEL_STEP) for picture in pictures]


def filler(words: int, seed: int) -> str:
    return " ".join(random.Random(seed).choices(WORDS, k=words))


def document_sample(name: str, images: int, words: int = 3) -> Sample:
    """Text, then per image: the image and `words` words of text; image i is `numbered_jpeg(i)`."""
    segments: list = [TextSegment(f"{name} begins")]
    for i in range(images):
        segments += [ImageSegment(url=f"http://site.test/{name}/{i}.jpg"), TextSegment(filler(words, seed=i))]
    url = f"http://site.test/{name}"
    doc = InterleavedDocument(doc_id=stable_key(url, name), url=url, segments=tuple(segments))
    return document_to_sample(doc, [numbered_jpeg(i) for i in range(images)])


def pair_sample(caption: str, kind: str = "alt", number: int = 0) -> Sample:
    url = f"http://site.test/{caption.replace(' ', '-')}.jpg"
    pair = ImageTextPair(key=stable_key(url, caption), url=url, caption=caption, kind=kind)
    return pair_to_sample(pair, numbered_jpeg(number))


def video_sample(text: str, frames: int) -> Sample:
    url = f"http://video.test/{text.replace(' ', '-')}"
    clip = VideoTextPair(key=stable_key(url, text), url=url, text=text, frame_count=frames)
    return video_to_sample(clip, [numbered_jpeg(t) for t in range(frames)])


def with_json(sample: Sample, **changes: object) -> Sample:
    meta = json.loads(sample["json"]) | changes
    return sample | {"json": json.dumps(meta).encode()}


def write_shard(path: Path, samples: list[Sample]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as out:
        write_samples(samples, out)
    return path


def builder(tokenizer: FlamingoTokenizer, dataset: str, images: ImageSettings = IMAGES, **sequence) -> ExampleBuilder:
    return ExampleBuilder(dataset, tokenizer, SequenceSettings(**sequence), images)


def rng(seed: int) -> np.random.Generator:
    return np.random.default_rng(seed)


def loader(
    tokenizer: FlamingoTokenizer,
    dataset: str,
    folder: Path,
    workers: int,
    position: StreamPosition | None = None,
    images: ImageSettings = IMAGES,
    sequence: SequenceSettings | None = None,
    **stream,
) -> DatasetLoader:
    """A loader over the `.tar` files of `folder`; by default one epoch after another, unshuffled."""
    settings = StreamSettings(**({"batch_size": 1, "resample": False, "shuffle_buffer": 1} | stream))
    examples = ExampleBuilder(dataset, tokenizer, sequence or SequenceSettings(), images)
    source = resolve_shards(dataset, [str(folder)])
    return DatasetLoader(source, examples, settings, workers, position)


def take(batches: DatasetLoader, count: int) -> list[Batch]:
    return [next(batches) for _ in range(count)]


def captions(batch: Batch, tokenizer: FlamingoTokenizer) -> list[str]:
    """The caption of each pair in a batch: its ids between `<BOS><image>` and `<EOC><EOS>`."""
    rows = zip(batch.input_ids, batch.attention_mask, strict=True)
    return [tokenizer.decode(ids[mask][2:-2].tolist()) for ids, mask in rows]


def all_captions(batches: list[Batch], tokenizer: FlamingoTokenizer) -> list[str]:
    return [caption for batch in batches for caption in captions(batch, tokenizer)]


def full_ids(tokenizer: FlamingoTokenizer, sample: Sample) -> np.ndarray:
    """A document's whole token sequence, before any window or image limit: its text, then EOS."""
    text = json.loads(sample["json"])["text"]
    return np.asarray([*tokenizer.encode(text, add_bos=False), tokenizer.eos_id])


def image_count(ids: np.ndarray, tokenizer: FlamingoTokenizer) -> int:
    return int((np.asarray(ids) == tokenizer.image_id).sum())


# -- M3W ------------------------------------------------------------------------------------------


def test_a_document_keeps_its_first_max_images_and_drops_the_rest_with_their_eoc(tokenizer):
    sample = document_sample("eight", images=8)
    example = builder(tokenizer, "m3w", max_tokens=512, max_images=5)(sample, rng(0))
    full = full_ids(tokenizer, sample)
    dropped = np.flatnonzero(full == tokenizer.image_id)[5:]
    assert (full[dropped - 1] == tokenizer.eoc_id).all()
    expected = [tokenizer.bos_id, *np.delete(full, np.concatenate([dropped - 1, dropped])).tolist()]
    assert example.input_ids.tolist() == expected
    assert image_count(example.input_ids, tokenizer) == 5
    assert example.media.shape == (5, 1, 3, SIZE, SIZE)
    assert numbers_of(example.media) == [0, 1, 2, 3, 4]
    assert filler(3, seed=7) in tokenizer.decode(example.input_ids.tolist())  # text after a dropped image stays


def test_m3w_sequences_start_with_bos_and_fit_max_tokens(tokenizer):
    sample = document_sample("long", images=6, words=40)
    assert len(full_ids(tokenizer, sample)) > 4 * 32
    examples = builder(tokenizer, "m3w", max_tokens=32)
    for seed in range(30):
        ids = examples(sample, rng(seed)).input_ids
        assert ids[0] == tokenizer.bos_id
        assert 1 < len(ids) <= 32


def find_window(full: np.ndarray, window: np.ndarray) -> int:
    starts = [s for s in range(len(full) - len(window) + 1) if np.array_equal(full[s : s + len(window)], window)]
    assert len(starts) == 1, f"window found at {starts}"
    return starts[0]


def test_a_long_documents_random_window_always_holds_an_image_and_its_media_are_that_image(tokenizer):
    # Text segments of 40 words are much longer than the window: most windows of the document hold no image.
    sample = document_sample("long", images=6, words=40)
    full = full_ids(tokenizer, sample)
    examples = builder(tokenizer, "m3w", max_tokens=32)
    starts = set()
    for seed in range(50):
        example = examples(sample, rng(seed))
        assert image_count(example.input_ids, tokenizer) == 1 == len(example.media)
        start = find_window(full, example.input_ids[1:])
        assert numbers_of(example.media) == [image_count(full[:start], tokenizer)]
        starts.add(start)
    assert len(starts) > 10  # the window is random, not always the same one


def test_m3w_image_tokens_always_equal_the_media(tokenizer):
    sample = document_sample("many", images=12)
    full = full_ids(tokenizer, sample)
    assert max(image_count(full[start : start + 63], tokenizer) for start in range(len(full))) > 5
    examples = builder(tokenizer, "m3w", max_tokens=64, max_images=5)
    for seed in range(100):
        example = examples(sample, rng(seed))
        ids = example.input_ids
        images = np.flatnonzero(ids == tokenizer.image_id)
        assert 1 <= len(images) <= 5 and len(images) == len(example.media)
        assert (ids[images[images >= 2] - 1] == tokenizer.eoc_id).all()  # each kept image keeps its <EOC>
        first = numbers_of(example.media)[0]
        assert numbers_of(example.media) == list(range(first, first + len(images)))


def test_about_half_of_m3w_documents_attend_to_the_next_image(tokenizer):
    sample = document_sample("one", images=1)
    examples = builder(tokenizer, "m3w", next_image_probability=0.5)
    attend_next = [examples(sample, rng(seed)).attend_next for seed in range(400)]
    assert 0.42 < np.mean(attend_next) < 0.58


# -- pairs ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("dataset", "kind", "other_kind"), [("align", "alt", "caption"), ("ltip", "caption", "alt")])
def test_a_pair_stream_takes_its_own_kind_only(tokenizer, dataset, kind, other_kind):
    examples = builder(tokenizer, dataset)
    assert len(examples(pair_sample("a pair of mine", kind), rng(0)).media) == 1
    with pytest.raises(OtherKind):
        examples(pair_sample("a pair of the other stream", other_kind), rng(0))


def test_a_pair_is_bos_image_caption_eoc_eos(tokenizer):
    caption = "a small dog in the garden"
    example = builder(tokenizer, "align")(pair_sample(caption, number=3), rng(0))
    body = tokenizer.encode(caption, add_bos=False)
    assert example.input_ids.tolist() == [
        tokenizer.bos_id,
        tokenizer.image_id,
        *body,
        tokenizer.eoc_id,
        tokenizer.eos_id,
    ]
    assert example.media.shape == (1, 1, 3, SIZE, SIZE)
    assert numbers_of(example.media) == [3]


def test_a_long_caption_is_truncated_but_still_ends_with_eoc_eos(tokenizer):
    caption = filler(60, seed=1)
    body = tokenizer.encode(caption, add_bos=False)
    assert len(body) > 16
    ids = builder(tokenizer, "ltip", max_tokens=16)(pair_sample(caption, "caption"), rng(0)).input_ids.tolist()
    assert len(ids) == 16
    assert ids[:2] == [tokenizer.bos_id, tokenizer.image_id]
    assert ids[2:-2] == body[:12]
    assert ids[-2:] == [tokenizer.eoc_id, tokenizer.eos_id]


# -- video ----------------------------------------------------------------------------------------


def test_a_long_clip_gives_consecutive_frames_from_a_random_start(tokenizer):
    sample = video_sample("a train crossing a river", frames=12)
    examples = builder(tokenizer, "vtp", frames=8)
    starts = set()
    for seed in range(30):
        example = examples(sample, rng(seed))
        assert example.media.shape == (1, 8, 3, SIZE, SIZE)
        frames = numbers_of(example.media)
        assert 0 <= frames[0] <= 12 - 8
        assert frames == list(range(frames[0], frames[0] + 8))
        starts.add(frames[0])
    assert len(starts) > 1


def test_a_short_clip_spreads_its_frames_in_order(tokenizer):
    example = builder(tokenizer, "vtp", frames=8)(video_sample("a bird", frames=3), rng(0))
    assert example.media.shape == (1, 8, 3, SIZE, SIZE)
    frames = numbers_of(example.media)
    assert frames == sorted(frames) and set(frames) == {0, 1, 2}


def test_a_clip_is_bos_image_text_eoc_eos(tokenizer):
    text = "a train crossing a river"
    ids = builder(tokenizer, "vtp")(video_sample(text, frames=8), rng(0)).input_ids.tolist()
    body = tokenizer.encode(text, add_bos=False)
    assert ids == [tokenizer.bos_id, tokenizer.image_id, *body, tokenizer.eoc_id, tokenizer.eos_id]


# -- images ---------------------------------------------------------------------------------------


def test_load_image_keeps_the_aspect_ratio_and_pads_with_the_mean_colour():
    settings = ImageSettings(size=32, mean=CLIP_MEAN, std=CLIP_STD)
    pixels = load_image(solid_jpeg((255, 0, 0), size=(320, 160)), settings)
    assert pixels.shape == (3, 32, 32) and pixels.dtype == np.uint8
    fill = np.array([round(255 * m) for m in CLIP_MEAN], dtype=np.uint8)[:, None, None]
    padding = np.concatenate([pixels[:, :8], pixels[:, 24:]], axis=1)  # 320x160 -> 32x16, centred
    assert (padding == fill).all()
    assert torch.allclose(normalise(torch.from_numpy(padding), CLIP_MEAN, CLIP_STD), torch.zeros(1), atol=0.01)
    red, green, blue = pixels[:, 8:24].reshape(3, -1).mean(axis=1)
    assert red > 230 and green < 30 and blue < 30


@pytest.mark.parametrize(
    "jpeg", [numbered_jpeg(1)[:300], b"\xff\xd8\xff\xe0 not really a jpeg"], ids=["truncated", "garbage"]
)
def test_an_undecodable_jpeg_is_a_bad_image(jpeg):
    with pytest.raises(BadImage, match="undecodable image"):
        load_image(jpeg, IMAGES)


def test_a_seeded_flip_is_deterministic():
    half_red_half_blue = Image.new("RGB", (32, 32), (255, 0, 0))
    half_red_half_blue.paste((0, 0, 255), (16, 0, 32, 32))
    out = io.BytesIO()
    half_red_half_blue.save(out, "PNG")
    settings = ImageSettings(size=SIZE, mean=CLIP_MEAN, std=CLIP_STD, flip=True)
    plain = load_image(out.getvalue(), IMAGES)
    flipped = []
    for seed in range(12):
        first, again = load_image(out.getvalue(), settings, rng(seed)), load_image(out.getvalue(), settings, rng(seed))
        assert np.array_equal(first, again)
        assert np.array_equal(first, plain) or np.array_equal(first, plain[:, :, ::-1])
        flipped.append(not np.array_equal(first, plain))
    assert any(flipped) and not all(flipped)


# -- batches --------------------------------------------------------------------------------------


def hand_made(tokenizer: FlamingoTokenizer, text_ids: list[int], images: int, media: int) -> Example:
    ids = [tokenizer.bos_id, *[tokenizer.eoc_id, tokenizer.image_id] * images, *text_ids, tokenizer.eoc_id]
    return Example(np.asarray(ids, dtype=np.int64), np.full((media, 1, 3, SIZE, SIZE), 7, dtype=np.uint8))


def test_labels_ignore_padding_and_image_tokens_but_not_eoc(tokenizer):
    long, short = hand_made(tokenizer, [40, 41, 42], 2, 2), hand_made(tokenizer, [50], 1, 1)
    batch = collate([long, short], "m3w", tokenizer.pad_id, tokenizer.image_id)
    ids, labels = batch.input_ids, batch.labels
    assert ids.shape == (2, len(long.input_ids))
    assert (labels[ids == tokenizer.image_id] == IGNORE_INDEX).all()
    assert (labels[~batch.attention_mask] == IGNORE_INDEX).all() and (~batch.attention_mask[1]).sum() == 4
    eoc = ids == tokenizer.eoc_id
    assert eoc.sum() == 5 and (labels[eoc] == tokenizer.eoc_id).all()
    text = batch.attention_mask & (ids != tokenizer.image_id)
    assert torch.equal(labels[text], ids[text])


def test_collate_pads_missing_media_with_zeros_and_masks_them(tokenizer):
    batch = collate([hand_made(tokenizer, [40], 2, 2), hand_made(tokenizer, [50], 1, 1)], "m3w", 0, tokenizer.image_id)
    assert batch.images.shape == (2, 2, 1, 3, SIZE, SIZE)
    assert batch.media_mask.tolist() == [[True, True], [True, False]]
    assert (batch.images[1, 1] == 0).all() and (batch.images[1, 0] == 7).all()


def test_collate_refuses_an_example_whose_image_tokens_differ_from_its_media(tokenizer):
    wrong = hand_made(tokenizer, [40], images=2, media=1)
    with pytest.raises(AssertionError, match="<image> tokens"):
        collate([hand_made(tokenizer, [50], 1, 1), wrong], "m3w", tokenizer.pad_id, tokenizer.image_id)


# -- streams --------------------------------------------------------------------------------------


def shards_with_bad_samples(folder: Path) -> list[str]:
    """Two ALIGN shards with a bad sample (or an LTIP pair) between good ones; returns the good captions."""
    write_shard(
        folder / "a.tar",
        [
            pair_sample("good a zero"),
            pair_sample("broken jpeg") | {"jpg": numbered_jpeg(2)[:300]},
            pair_sample("good a one"),
            with_json(pair_sample("future version"), format_version=99),
            pair_sample("good a two"),
        ],
    )
    write_shard(
        folder / "b.tar",
        [
            pair_sample("good b zero"),
            pair_sample("invalid json") | {"json": b'{"dataset": "pair", '},
            pair_sample("good b one"),
            pair_sample("an ltip caption", kind="caption"),
            pair_sample("good b two"),
        ],
    )
    return ["good a zero", "good a one", "good a two", "good b zero", "good b one", "good b two"]


@pytest.mark.parametrize("workers", [0, 2])
def test_a_stream_skips_bad_samples_and_counts_each_reason(tokenizer, tmp_path, workers):
    good = shards_with_bad_samples(tmp_path)
    batches = loader(tokenizer, "align", tmp_path, workers, batch_size=3)
    assert sorted(all_captions(take(batches, 2), tokenizer)) == sorted(good)  # one epoch: every good sample, once
    assert batches.position.skipped == {"bad_image": 1, "unsupported_format_version": 1, "invalid_sample": 1}


def test_a_broken_shard_does_not_stop_the_stream(tokenizer, tmp_path):
    write_shard(tmp_path / "intact.tar", [pair_sample(f"intact {i}") for i in range(3)])
    appended = write_shard(tmp_path / "appended.tar", [pair_sample(f"appended {i}") for i in range(3)])
    appended.write_bytes(appended.read_bytes() + b"garbage" * 500)
    truncated = tmp_path / "truncated.tar"
    with open(truncated, "wb") as out:
        second = write_samples([pair_sample(f"truncated {i}") for i in range(3)], out)[1]
    truncated.write_bytes(truncated.read_bytes()[: second.offset + 600])  # inside the second sample's jpg
    batches = loader(tokenizer, "align", tmp_path, workers=0)
    seen = all_captions(take(batches, 10), tokenizer)  # an epoch holds 7 readable samples
    readable = {"intact 0", "intact 1", "intact 2", "appended 0", "appended 1", "appended 2", "truncated 0"}
    assert set(seen) == readable
    assert batches.position.skipped["broken_shard"] >= 1


def shards_naming_their_samples(folder: Path, shards: int = 8, samples: int = 2) -> None:
    for shard in range(shards):
        write_shard(folder / f"{shard}.tar", [pair_sample(f"shard {shard} sample {i}") for i in range(samples)])


def test_without_resampling_each_shard_is_read_by_exactly_one_rank_and_worker_per_epoch(tokenizer, tmp_path):
    shards_naming_their_samples(tmp_path, shards=8, samples=2)
    readers: dict[str, set[tuple[int, int]]] = {}
    seen = []
    for rank in (0, 1):
        batches = loader(tokenizer, "align", tmp_path, workers=2, rank=rank, world_size=2)
        for batch in take(batches, 8):  # one epoch: 8 shards x 2 samples over 2 ranks
            (caption,) = captions(batch, tokenizer)
            readers.setdefault(caption.split(" sample")[0], set()).add((rank, batch.worker))
            seen.append(caption)
    assert sorted(seen) == sorted(f"shard {s} sample {i}" for s in range(8) for i in range(2))
    assert len(readers) == 8 and all(len(streams) == 1 for streams in readers.values())
    shards_per_stream = Counter(stream for (stream,) in readers.values())
    assert shards_per_stream == {(0, 0): 2, (0, 1): 2, (1, 0): 2, (1, 1): 2}


def test_with_resampling_different_ranks_read_different_samples(tokenizer, tmp_path):
    shards_naming_their_samples(tmp_path, shards=8, samples=2)

    def first_captions(rank: int) -> list[str]:
        batches = loader(tokenizer, "align", tmp_path, workers=0, rank=rank, world_size=2, resample=True)
        return all_captions(take(batches, 12), tokenizer)

    assert first_captions(0) != first_captions(1)


@pytest.mark.parametrize("resample", [True, False], ids=["resample", "epochs"])
@pytest.mark.parametrize("taken", [3, 4], ids=["resume-at-worker-1", "resume-at-worker-0"])
def test_a_loader_resumed_from_its_position_gives_the_same_next_batches(tokenizer, tmp_path, resample, taken):
    for shard in range(4):
        write_shard(
            tmp_path / f"{shard}.tar", [document_sample(f"doc {shard} {i}", images=1 + i % 3) for i in range(5)]
        )
    flipping = ImageSettings(size=SIZE, mean=CLIP_MEAN, std=CLIP_STD, flip=True)
    settings = {
        "images": flipping,
        "sequence": SequenceSettings(max_tokens=24),
        "batch_size": 2,
        "shuffle_buffer": 6,
        "resample": resample,
        "seed": 5,
    }
    original = loader(tokenizer, "m3w", tmp_path, workers=2, **settings)
    take(original, taken)
    state = json.loads(json.dumps(original.position.state_dict()))  # as a checkpoint stores it
    expected = take(original, 4)
    resumed = loader(tokenizer, "m3w", tmp_path, workers=2, position=StreamPosition.from_state_dict(state), **settings)
    for want, got in zip(expected, take(resumed, 4), strict=True):
        assert got.index == want.index
        assert torch.equal(got.input_ids, want.input_ids)
        assert torch.equal(got.images, want.images)
        assert torch.equal(got.attend_next, want.attend_next)
    assert resumed.position.state_dict() == original.position.state_dict()


# -- sources --------------------------------------------------------------------------------------


def curate_folder(folder: Path, shards: dict[str, list[Sample]]) -> Path:
    """Shards and a manifest.parquet laid out as `curate` writes them (pipelines/sinks/shards.py)."""
    rows = []
    for name, samples in shards.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "wb") as out:
            entries = write_samples(samples, out)
        rows += [manifest_row(sample, name, entry) for sample, entry in zip(samples, entries, strict=True)]
    (folder / "manifest.parquet").write_bytes(rows_to_parquet(rows))
    return folder


def test_a_curate_folder_gives_the_shards_of_each_datasets_kind(tmp_path):
    folder = curate_folder(
        tmp_path,
        {
            "m3w/shard-00000-of-00002.tar": [document_sample(f"doc {i}", images=1) for i in range(3)],
            "m3w/shard-00001-of-00002.tar": [document_sample(f"doc {i}", images=2) for i in range(3, 5)],
            "pairs/shard-00000-of-00001.tar": [pair_sample("alt text"), pair_sample("long caption", "caption")],
        },
    )
    m3w = resolve_shards("m3w", [str(folder)])
    assert m3w.urls == (str(folder / "m3w/shard-00000-of-00002.tar"), str(folder / "m3w/shard-00001-of-00002.tar"))
    assert m3w.manifest_samples == 5
    for pairs in ("align", "ltip"):
        assert resolve_shards(pairs, [str(folder)]).urls == (str(folder / "pairs/shard-00000-of-00001.tar"),)


def test_a_manifest_without_the_datasets_kind_is_an_error_naming_the_dataset(tmp_path):
    folder = curate_folder(tmp_path, {"m3w/shard-00000-of-00001.tar": [document_sample("doc", images=1)]})
    with pytest.raises(DatasetError, match=r"^vtp: no video samples"):
        resolve_shards("vtp", [str(folder)])


def test_a_manifest_of_an_unknown_format_version_is_refused(tmp_path):
    folder = curate_folder(tmp_path, {"m3w/shard-00000-of-00001.tar": [document_sample("doc", images=1)]})
    manifest = pq.read_table(folder / "manifest.parquet")
    pq.write_table(manifest.replace_schema_metadata({b"format_version": b"99"}), folder / "manifest.parquet")
    with pytest.raises(UnsupportedFormatVersion, match="format version 99 is not supported"):
        resolve_shards("m3w", [str(folder)])


def test_a_missing_shard_file_is_an_error_naming_it(tmp_path):
    missing = str(tmp_path / "shard-00007.tar")
    with pytest.raises(DatasetError, match=f"shard file {missing} does not exist"):
        resolve_shards("align", [missing])


def test_a_brace_pattern_expands_to_its_shards(tmp_path):
    for shard in range(3):
        write_shard(tmp_path / f"shard-{shard:05d}.tar", [pair_sample(f"pair {shard}")])
    source = resolve_shards("align", [str(tmp_path / "shard-{00000..00002}.tar")])
    assert source.urls == tuple(str(tmp_path / f"shard-{shard:05d}.tar") for shard in range(3))
    assert source.manifest_samples is None
