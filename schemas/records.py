"""Record types of the three datasets: interleaved documents, image-text pairs and video-text pairs.

Records are plain frozen dataclasses with `to_dict`/`from_dict` for JSON; binary media (JPEG bytes)
travel beside them, never inside them.

Every text a record holds (page text, alt text, titles, captions, video text, wherever it came
from: pages, lists, yt-dlp) has its `<image>`/`<EOC>` look-alikes neutralised when the record is
built: the one choke point every sample passes, so no input can forge a token.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any, Literal

from schemas.tokens import EOC, IMAGE, neutralise_special_tokens

PairKind = Literal["alt", "caption"]
PAIR_KINDS: tuple[str, ...] = ("alt", "caption")


@dataclass(frozen=True)
class ImageInfo:
    """What is known about an image once it has been fetched, decoded and processed."""

    sha256: str
    width: int
    height: int
    original_width: int
    original_height: int
    phash: str = ""
    dedup_score: float | None = None
    dedup_match: str | None = None

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ImageInfo:
        return cls(**_known_fields(cls, data))


@dataclass(frozen=True)
class TextSegment:
    text: str

    def __post_init__(self) -> None:
        _neutralise(self, "text")

    def to_dict(self) -> dict[str, Any]:
        return {"type": "text", "text": self.text}


@dataclass(frozen=True)
class ImageSegment:
    """An image where it stands in the page; `info` is filled once it has been fetched."""

    url: str
    alt: str = ""
    title: str = ""
    caption: str = ""
    declared_width: int | None = None
    declared_height: int | None = None
    info: ImageInfo | None = None

    def __post_init__(self) -> None:
        _neutralise(self, "alt", "title", "caption")

    def to_dict(self) -> dict[str, Any]:
        data = {"type": "image", **asdict(self)}
        if self.info is None:
            del data["info"]
        return data


Segment = TextSegment | ImageSegment


def segment_from_dict(data: dict[str, Any]) -> Segment:
    kind = data.get("type")
    if kind == "text":
        return TextSegment(text=data["text"])
    if kind == "image":
        info = data.get("info")
        fields_ = _known_fields(ImageSegment, data)
        fields_["info"] = ImageInfo.from_dict(info) if info else None
        return ImageSegment(**fields_)
    raise ValueError(f"segment type {kind!r} is neither 'text' nor 'image'")


@dataclass(frozen=True)
class InterleavedDocument:
    """An M3W-style document: text and images in DOM order, plus where it came from."""

    doc_id: str
    url: str
    segments: tuple[Segment, ...]
    source: str = ""
    record_id: str = ""
    crawl_time: str = ""
    language: str = ""
    scores: dict[str, float] = field(default_factory=dict)

    @property
    def images(self) -> list[ImageSegment]:
        return [s for s in self.segments if isinstance(s, ImageSegment)]

    @property
    def text(self) -> str:
        """The training text: `<EOC>` before each image, `<image>` at it, `<EOC>` at the end."""
        pieces = [EOC + IMAGE if isinstance(s, ImageSegment) else s.text for s in self.segments]
        return "\n".join(pieces) + EOC

    def keep_images(self, keep: dict[str, ImageInfo]) -> InterleavedDocument:
        """Keep only images whose URL is in `keep`, attaching their info; the rest vanish with their tokens."""
        segments = tuple(
            replace(s, info=keep[s.url]) if isinstance(s, ImageSegment) else s
            for s in self.segments
            if not isinstance(s, ImageSegment) or s.url in keep
        )
        return replace(self, segments=segments)

    def to_dict(self) -> dict[str, Any]:
        return {
            "doc_id": self.doc_id,
            "url": self.url,
            "source": self.source,
            "record_id": self.record_id,
            "crawl_time": self.crawl_time,
            "language": self.language,
            "scores": dict(self.scores),
            "segments": [s.to_dict() for s in self.segments],
            "text": self.text,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> InterleavedDocument:
        fields_ = _known_fields(cls, data)
        fields_["segments"] = tuple(segment_from_dict(s) for s in data["segments"])
        fields_["scores"] = dict(data.get("scores") or {})
        return cls(**fields_)


@dataclass(frozen=True)
class ImageTextPair:
    """ALIGN-style (alt text) or LTIP-style (long caption) pair."""

    key: str
    url: str
    caption: str
    kind: PairKind
    page_url: str = ""
    info: ImageInfo | None = None

    def __post_init__(self) -> None:
        _neutralise(self, "caption")
        if self.kind not in PAIR_KINDS:
            raise ValueError(f"pair {self.key}: kind {self.kind!r} is not one of {PAIR_KINDS}")

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        if self.info is None:
            del data["info"]
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ImageTextPair:
        fields_ = _known_fields(cls, data)
        info = data.get("info")
        fields_["info"] = ImageInfo.from_dict(info) if info else None
        return cls(**fields_)


@dataclass(frozen=True)
class VideoTextPair:
    """VTP-style clip: frames sampled at `fps` and the text that describes the video."""

    key: str
    url: str
    text: str
    page_url: str = ""
    text_source: str = ""
    fps: float = 1.0
    duration: float = 0.0  # of the source video, seconds
    start: float = 0.0  # where this clip's first frame is in the source video, seconds
    frame_count: int = 0
    frame_width: int = 0
    frame_height: int = 0
    dedup_score: float | None = None
    dedup_match: str | None = None

    def __post_init__(self) -> None:
        _neutralise(self, "text")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> VideoTextPair:
        return cls(**_known_fields(cls, data))


def _known_fields(cls: type, data: dict[str, Any]) -> dict[str, Any]:
    names = {f.name for f in fields(cls)}
    return {k: v for k, v in data.items() if k in names and k != "type"}


# The text fields of each record type that `_neutralise` rewrites: what `curate verify` checks in shards.
TEXT_FIELDS: dict[str, tuple[str, ...]] = {
    "text": ("text",),
    "image": ("alt", "title", "caption"),
    "pair": ("caption",),
    "video": ("text",),
}


def _neutralise(record: object, *names: str) -> None:
    for name in names:
        value = getattr(record, name)
        if isinstance(value, str):
            object.__setattr__(record, name, neutralise_special_tokens(value))
