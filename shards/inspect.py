"""`inspect`: what an output folder holds, in a few lines: counts and sizes per kind, the drops that
mattered, contamination, and a few samples printed."""

from __future__ import annotations

import json
from collections.abc import Callable

from schemas.manifest import MANIFEST_FILE, STATS_FILE
from schemas.samples import sample_kind, sample_to_document, sample_to_pair, sample_to_video
from shards.manifest import read_manifest
from shards.reader import Opener, read_sample_at

MB = 1024 * 1024
SHOWN_CHARS = 300


def describe_output(output: str, open_file: Opener, join: Callable[[str, str], str], samples: int = 3) -> str:
    manifest = read_manifest(join(output, MANIFEST_FILE), open_file)
    with open_file(join(output, STATS_FILE)) as handle:
        stats = json.loads(handle.read())
    lines = [f"{output}: {manifest.num_rows} samples in {len(set(manifest.column('shard').to_pylist()))} shard(s)"]
    for kind, size in stats.get("sizes", {}).items():
        lines.append(
            f"  {kind:<6} {size['samples']:>8} samples {size['images']:>9} images/frames {size['tokens']:>10} tokens "
            f"{size['bytes'] / MB:>9.1f} MB {size['shards']:>4} shard(s)"
        )
    drops = sorted(stats.get("drops", {}).items(), key=lambda item: -item[1])
    if drops:
        lines.append("  largest drops: " + ", ".join(f"{reason} {count}" for reason, count in drops[:8]))
    for benchmark, found in stats.get("contamination", {}).items():
        lines.append(f"  contamination {benchmark}: " + ", ".join(f"{k} {v}" for k, v in found.items()))
    rows = manifest.sort_by("key").slice(0, samples).to_pylist()
    for row in rows:
        sample = read_sample_at(join(output, row["shard"]), row["offset"], row["size"], open_file)
        lines += ["", f"--- {row['kind']} {row['key']} ({row['shard']})", *_sample_lines(sample)]
    return "\n".join(lines)


def _sample_lines(sample: dict) -> list[str]:
    kind = sample_kind(sample)
    if kind == "m3w":
        document, jpegs = sample_to_document(sample)
        sizes = ", ".join(f"{i.info.width}x{i.info.height}" for i in document.images if i.info)
        return [document.url, f"{len(jpegs)} image(s): {sizes}", _short(document.text)]
    if kind == "pair":
        pair, jpeg = sample_to_pair(sample)
        return [f"{pair.kind}: {pair.url} ({len(jpeg)} bytes)", _short(pair.caption)]
    clip, frames = sample_to_video(sample)
    return [f"{clip.url} from {clip.start:g} s: {len(frames)} frames at {clip.fps:g} FPS", _short(clip.text)]


def _short(text: str) -> str:
    return text if len(text) <= SHOWN_CHARS else text[:SHOWN_CHARS] + " ..."
