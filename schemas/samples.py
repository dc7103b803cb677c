"""The shard sample layout: which files each sample has, and conversion between records and samples.

A sample is the dict webdataset writes and reads: `__key__` plus one entry per file, named by the
part of the member name after the key (`KEY.json` -> "json", `KEY.3.jpg` -> "3.jpg"). The json names the
dataset ("m3w", "pair" or "video") and the format version.

- m3w:   json (the document) + `{i}.jpg` for kept image i, in reading order
- pair:  jpg + txt (the caption) + json (the pair record)
- video: `{t}.jpg` for frame t = 0..T-1 + txt + json (the clip record)
"""

from __future__ import annotations

import json
import re
from typing import Any, Literal

from schemas.keys import is_valid_key
from schemas.records import TEXT_FIELDS, ImageTextPair, InterleavedDocument, VideoTextPair
from schemas.tokens import EOC, IMAGE, neutralise_special_tokens
from schemas.version import FORMAT_VERSION, check_format_version

SampleKind = Literal["m3w", "pair", "video"]
SAMPLE_KINDS: tuple[str, ...] = ("m3w", "pair", "video")
Sample = dict[str, Any]

_INDEXED_JPEG = re.compile(r"^(\d+)\.jpg$")


class InvalidSample(ValueError):
    pass


def document_to_sample(doc: InterleavedDocument, images: list[bytes]) -> Sample:
    if len(images) != len(doc.images):
        raise InvalidSample(f"document {doc.doc_id}: {len(doc.images)} image segments but {len(images)} images")
    sample = _with_json(doc.doc_id, "m3w", doc.to_dict())
    sample.update({f"{i}.jpg": jpeg for i, jpeg in enumerate(images)})
    return sample


def pair_to_sample(pair: ImageTextPair, jpeg: bytes) -> Sample:
    sample = _with_json(pair.key, "pair", pair.to_dict())
    sample["jpg"] = jpeg
    sample["txt"] = pair.caption.encode("utf-8")
    return sample


def video_to_sample(clip: VideoTextPair, frames: list[bytes]) -> Sample:
    if len(frames) != clip.frame_count:
        raise InvalidSample(f"clip {clip.key}: frame_count is {clip.frame_count} but {len(frames)} frames given")
    sample = _with_json(clip.key, "video", clip.to_dict())
    sample.update({f"{t}.jpg": jpeg for t, jpeg in enumerate(frames)})
    sample["txt"] = clip.text.encode("utf-8")
    return sample


def sample_kind(sample: Sample, where: str = "sample") -> SampleKind:
    where = _naming_key(sample, where)
    return _read_json(sample, where)["dataset"]


def sample_to_document(sample: Sample, where: str = "sample") -> tuple[InterleavedDocument, list[bytes]]:
    where = _naming_key(sample, where)
    meta = _read_json(sample, where, expect="m3w")
    doc = _build(InterleavedDocument.from_dict, meta, where)
    return doc, _indexed_jpegs(sample, len(doc.images), where)


def sample_to_pair(sample: Sample, where: str = "sample") -> tuple[ImageTextPair, bytes]:
    where = _naming_key(sample, where)
    meta = _read_json(sample, where, expect="pair")
    if "jpg" not in sample:
        raise InvalidSample(f"{where}: pair sample has no jpg")
    return _build(ImageTextPair.from_dict, meta, where), sample["jpg"]


def sample_to_video(sample: Sample, where: str = "sample") -> tuple[VideoTextPair, list[bytes]]:
    where = _naming_key(sample, where)
    meta = _read_json(sample, where, expect="video")
    clip = _build(VideoTextPair.from_dict, meta, where)
    return clip, _indexed_jpegs(sample, clip.frame_count, where)


def validate_sample(sample: Sample, where: str = "sample") -> list[str]:
    """Every way the sample breaks the layout, as readable problems; empty when it is valid."""
    where = _naming_key(sample, where)
    try:
        meta = _read_json(sample, where)
        kind = meta["dataset"]
        if kind == "m3w":
            doc, _ = sample_to_document(sample, where)
            problems = _text_token_problems(doc)
            if meta.get("text") != doc.text:
                problems.append("the stored text is not the one its segments make (tokens or text edited)")
        elif kind == "pair":
            pair, _ = sample_to_pair(sample, where)
            problems = [] if sample.get("txt", b"").decode("utf-8") == pair.caption else ["txt differs from caption"]
        else:
            clip, _ = sample_to_video(sample, where)
            problems = [] if sample.get("txt", b"").decode("utf-8") == clip.text else ["txt differs from text"]
    except (InvalidSample, ValueError, UnicodeDecodeError) as error:
        return [str(error)]
    problems += _forged_token_problems(meta, sample)
    return [f"{where}: {p}" for p in problems]


def _forged_token_problems(meta: dict[str, Any], sample: Sample) -> list[str]:
    """Texts as stored (before any record neutralises them again on reading) that read as a special token."""
    if meta["dataset"] == "m3w":
        texts = [
            (f"segment {i} {name}", segment.get(name))
            for i, segment in enumerate(meta["segments"])
            for name in TEXT_FIELDS[segment.get("type", "")]
        ]
    else:
        texts = [(name, meta.get(name)) for name in TEXT_FIELDS[meta["dataset"]]]
        texts.append(("txt", sample.get("txt", b"").decode("utf-8", errors="replace")))
    return [
        f"{name} holds a special-token look-alike: {value[:80]!r}"
        for name, value in texts
        if isinstance(value, str) and neutralise_special_tokens(value) != value
    ]


def _text_token_problems(doc: InterleavedDocument) -> list[str]:
    text = doc.text
    problems = []
    if text.count(IMAGE) != len(doc.images):
        problems.append(f"text has {text.count(IMAGE)} {IMAGE} for {len(doc.images)} images")
    if text.count(EOC) != len(doc.images) + 1:
        problems.append(f"text has {text.count(EOC)} {EOC} for {len(doc.images)} images")
    return problems


def _naming_key(sample: Sample, where: str) -> str:
    key = str(sample.get("__key__", "?"))
    return where if where.endswith(key) else f"{where} {key}"


def _with_json(key: str, kind: SampleKind, record: dict[str, Any]) -> Sample:
    if not is_valid_key(key):
        raise InvalidSample(f"key {key!r} is not a 32-character lowercase hex key")
    meta = {"format_version": FORMAT_VERSION, "dataset": kind, **record}
    return {"__key__": key, "json": json.dumps(meta, ensure_ascii=False, sort_keys=True).encode("utf-8")}


def _read_json(sample: Sample, where: str, expect: SampleKind | None = None) -> dict[str, Any]:
    raw = sample.get("json")
    if raw is None:
        raise InvalidSample(f"{where}: has no json member")
    try:
        meta = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise InvalidSample(f"{where}: json member is not valid JSON ({error})") from error
    if not isinstance(meta, dict):
        raise InvalidSample(f"{where}: json member is not an object")
    check_format_version(meta.get("format_version"), where)
    kind = meta.get("dataset")
    if kind not in SAMPLE_KINDS:
        raise InvalidSample(f"{where}: dataset {kind!r} is not one of {SAMPLE_KINDS}")
    if expect is not None and kind != expect:
        raise InvalidSample(f"{where}: is a {kind} sample, expected {expect}")
    return meta


def _build(factory, meta: dict[str, Any], where: str):
    try:
        return factory(meta)
    except (KeyError, TypeError, ValueError) as error:
        raise InvalidSample(f"{where}: json does not match the record type ({error})") from error


def _indexed_jpegs(sample: Sample, expected: int, where: str) -> list[bytes]:
    indices = sorted(int(m.group(1)) for name in sample if (m := _INDEXED_JPEG.match(name)))
    if indices != list(range(expected)):
        raise InvalidSample(f"{where}: expected images 0..{expected - 1}, found {indices}")
    return [sample[f"{i}.jpg"] for i in indices]
