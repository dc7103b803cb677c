"""The benchmark side of geometric verification, kept in the index folder: the local features of every
indexed image and sampled video frame (a "feature set" each), and a thumbnail of it for reports.

On disk:
    features.parquet          one row per feature set: benchmark, split, item_id, frame ("" for an
                              image, "t3" for the frame at 3 s), width, height, start, count, thumbnail
    features_points.npy       float32 [N, 2]: keypoint positions of every set, one after another
    features_descriptors.npy  uint8 [N, 128]: their SIFT descriptors

A query is verified against the sets its candidate rows belong to, so verification costs one
extraction per query and none per benchmark image. The arrays are memory-mapped when the folder is
local: the worker processes of one machine share one copy in the page cache.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from PIL import Image

from dedup.local_features import LocalFeatures

FEATURES_FILE = "features.parquet"
POINTS_FILE = "features_points.npy"
DESCRIPTORS_FILE = "features_descriptors.npy"
THUMBNAIL_SIDE = 96
FEATURES_SCHEMA = pa.schema(
    [
        pa.field("benchmark", pa.string(), nullable=False),
        pa.field("split", pa.string(), nullable=False),
        pa.field("item_id", pa.string(), nullable=False),
        pa.field("frame", pa.string(), nullable=False),
        pa.field("width", pa.int32(), nullable=False),
        pa.field("height", pa.int32(), nullable=False),
        pa.field("start", pa.int64(), nullable=False),
        pa.field("count", pa.int32(), nullable=False),
        pa.field("thumbnail", pa.binary(), nullable=False),  # JPEG, longest side THUMBNAIL_SIDE
    ]
)

Opener = Callable[[str], IO[bytes]]
SetKey = tuple[str, str, str, str]  # benchmark, split, item_id, frame


@dataclass(frozen=True)
class FeatureSet:
    """What the index build keeps of one image or frame."""

    key: SetKey
    features: LocalFeatures
    thumbnail: bytes


def frame_of_view(view: str) -> str:
    """The frame a row's view belongs to: "t3/centre75" -> "t3"; an image's views -> ""."""
    head = view.split("/", 1)[0]
    return head if head[:1] == "t" and head[1:].isdigit() else ""


def thumbnail_jpeg(image: Image.Image, side: int = THUMBNAIL_SIDE) -> bytes:
    small = image.convert("RGB")
    small.thumbnail((side, side), Image.Resampling.BILINEAR)
    buffer = io.BytesIO()
    small.save(buffer, "JPEG", quality=80)
    return buffer.getvalue()


class BenchmarkFeatures:
    def __init__(self, table: pa.Table, points: np.ndarray, descriptors: np.ndarray) -> None:
        if len(points) != len(descriptors):
            raise ValueError(f"{len(points)} keypoints but {len(descriptors)} descriptors")
        self.table = table
        self.points = points
        self.descriptors = descriptors
        keys = zip(
            *(table.column(name).to_pylist() for name in ("benchmark", "split", "item_id", "frame")), strict=True
        )
        self._number = {key: number for number, key in enumerate(keys)}
        self._start = table.column("start").to_numpy()
        self._count = table.column("count").to_numpy()
        self._size = np.stack([table.column("width").to_numpy(), table.column("height").to_numpy()], axis=1)

    @classmethod
    def from_sets(cls, sets: list[FeatureSet]) -> BenchmarkFeatures:
        counts = [len(s.features) for s in sets]
        starts = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64) if sets else np.zeros(0, np.int64)
        columns = {
            "benchmark": [s.key[0] for s in sets],
            "split": [s.key[1] for s in sets],
            "item_id": [s.key[2] for s in sets],
            "frame": [s.key[3] for s in sets],
            "width": [s.features.width for s in sets],
            "height": [s.features.height for s in sets],
            "start": starts,
            "count": counts,
            "thumbnail": [s.thumbnail for s in sets],
        }
        points = np.concatenate([s.features.points for s in sets]) if sets else np.zeros((0, 2), np.float32)
        descriptors = np.concatenate([s.features.descriptors for s in sets]) if sets else np.zeros((0, 128), np.uint8)
        return cls(pa.table(columns, schema=FEATURES_SCHEMA), points, descriptors)

    def __len__(self) -> int:
        return self.table.num_rows

    def number(self, key: SetKey) -> int | None:
        return self._number.get(key)

    def features(self, number: int) -> LocalFeatures:
        start, count = int(self._start[number]), int(self._count[number])
        width, height = (int(side) for side in self._size[number])
        points = np.asarray(self.points[start : start + count])
        return LocalFeatures(points, np.asarray(self.descriptors[start : start + count]), width, height)

    def thumbnail(self, number: int) -> bytes:
        return self.table.column("thumbnail")[number].as_py()

    def save(self, directory: str, create: Opener) -> None:
        buffer = io.BytesIO()
        pq.write_table(self.table, buffer)
        for name, payload in ((FEATURES_FILE, buffer.getvalue()), (POINTS_FILE, _npy(self.points)),
                              (DESCRIPTORS_FILE, _npy(self.descriptors))):  # fmt: skip
            with create(f"{directory.rstrip('/')}/{name}") as out:
                out.write(payload)

    @classmethod
    def load(cls, directory: str, read: Opener) -> BenchmarkFeatures:
        join = f"{directory.rstrip('/')}/".__add__
        with read(join(FEATURES_FILE)) as handle:
            table = pq.read_table(io.BytesIO(handle.read()))
        return cls(table, _load_array(join(POINTS_FILE), read), _load_array(join(DESCRIPTORS_FILE), read))


def _npy(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, np.ascontiguousarray(array))
    return buffer.getvalue()


def _load_array(path: str, read: Opener) -> np.ndarray:
    if "://" not in path:
        return np.load(path, mmap_mode="r")
    with read(path) as handle:
        return np.load(io.BytesIO(handle.read()))
