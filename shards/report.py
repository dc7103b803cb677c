"""A self-contained HTML report of a curated output folder: what was written, what the filters dropped,
the sizes of images and documents, contamination per benchmark, and a gallery of samples.

One file with no JavaScript and no external resource: charts are inline SVG, images are `data:` URIs of
thumbnails. Page text is untrusted, so every text goes through `html.escape`, and a Content-Security-Policy
forbids scripts as a second line of defence. The same folder always gives the same HTML: samples are
chosen by key, never at random, and no time or host is printed. `open_file` lets callers read through
Beam's FileSystems (gs://, s3://) without this module knowing about Beam.
"""

from __future__ import annotations

import base64
import io
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import partial
from html import escape
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
from PIL import Image

from schemas.manifest import MANIFEST_FILE, STATS_FILE
from schemas.records import ImageInfo, ImageSegment, ImageTextPair, InterleavedDocument, VideoTextPair
from schemas.samples import SAMPLE_KINDS, sample_to_document, sample_to_pair, sample_to_video
from schemas.version import check_format_version
from shards.manifest import read_manifest
from shards.reader import Opener, read_sample_at
from shards.svg_charts import bar_chart, histogram

HISTOGRAM_SAMPLE_CAP = 5_000  # samples read from the shards for the image-size histograms
THUMBNAIL_SIDE = 256
FRAME_SIDE = 160
PAIRS_SHOWN = 6
CLIPS_SHOWN = 3
FRAMES_SHOWN = 8

KIND_NAMES = {"m3w": "M3W documents", "pair": "image-text pairs", "video": "video clips"}
# (step, stats stage, counter) in pipeline order; a step whose counter a job did not report is left out.
FUNNELS: dict[str, tuple[tuple[str, str, str], ...]] = {
    "m3w": (
        ("HTML pages in the WARC input", "warc", "html_response"),
        ("pages read", "m3w", "pages_in"),
        ("documents kept by the text filters", "m3w", "documents_out"),
        ("documents left with images", "images", "documents_with_images"),
    ),
    "pair": (
        ("alt-text candidates", "pairs", "candidates_alt"),
        ("caption candidates", "pairs", "candidates_caption"),
        ("alt-text pairs kept", "pairs", "pairs_alt"),
        ("caption pairs kept", "pairs", "pairs_caption"),
    ),
    "video": (
        ("videos downloaded", "video", "videos_ok"),
        ("clips cut", "video", "clips"),
    ),
}
CONVERTERS: dict[str, Callable] = {"m3w": sample_to_document, "pair": sample_to_pair, "video": sample_to_video}

STYLE = """
body { font-family: sans-serif; margin: 24px auto; max-width: 1100px; color: #222; }
h1 { margin-bottom: 0; } .path { color: #555; margin-top: 4px; word-break: break-all; }
section { margin: 28px 0; } .charts { display: flex; flex-wrap: wrap; gap: 16px; }
table { border-collapse: collapse; margin-bottom: 12px; } th, td { border: 1px solid #ccc; padding: 3px 8px; }
td.number, th.number { text-align: right; } .note, .meta { color: #555; font-size: 90%; }
.problems { background: #fff3f3; border: 1px solid #d88; padding: 8px 16px; }
article { border: 1px solid #ccc; border-radius: 4px; padding: 8px 16px; margin: 16px 0; }
article .url { font-size: 100%; word-break: break-all; } .text { white-space: pre-wrap; }
figure { margin: 8px 0; } figure img { max-width: 256px; max-height: 256px; display: block; }
.pairs { display: flex; flex-wrap: wrap; gap: 16px; } .pairs figure { width: 256px; }
figure.match img { display: inline-block; max-width: 124px; margin-right: 4px; }
.frames { display: flex; flex-wrap: wrap; gap: 4px; } .broken { color: #a00; }
"""
# Defence in depth: even if some text escaped escaping, the browser runs no script and fetches nothing.
CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"
open_local: Opener = partial(open, mode="rb")


@dataclass
class SampleReader:
    """Reads samples by their manifest rows; an unreadable sample is noted in `problems`, never fatal."""

    root: str
    open_file: Opener
    problems: list[str] = field(default_factory=list)

    def records(self, rows: pa.Table) -> Iterator[tuple[dict[str, Any], Any]]:
        """(manifest row, record and its JPEGs as `schemas.samples.sample_to_*` give them) per readable row."""
        for row in rows.to_pylist():
            where = f"{row['shard']} sample {row['key']}"
            try:
                sample = read_sample_at(join(self.root, row["shard"]), row["offset"], row["size"], self.open_file)
                yield row, CONVERTERS[row["kind"]](sample, where)
            except (ValueError, OSError) as error:
                self.problems.append(f"{where}: {error}")


def build_report(root: str, open_file: Opener = open_local, samples: int = 12) -> str:
    """The report of the output folder `root` as one HTML page, with `samples` documents in its gallery."""
    if samples < 0:
        raise ValueError(f"the gallery size must be 0 or more, got {samples}")
    manifest = load_manifest(root, open_file)
    stats = load_stats(root, open_file)
    by_key = manifest.sort_by("key")
    reader = SampleReader(root, open_file)
    sections = [
        summary_section(manifest),
        funnel_section(manifest, stats),
        drops_section(stats),
        image_section(by_key, reader),
        documents_section(manifest),
        contamination_section(manifest, stats),
        gallery_section(by_key, reader, samples),
    ]
    return page(root, sections, reader.problems)


def join(root: str, relative: str) -> str:
    return f"{root.rstrip('/')}/{relative}"


def load_manifest(root: str, open_file: Opener) -> pa.Table:
    path = join(root, MANIFEST_FILE)
    try:
        return read_manifest(path, open_file)
    except OSError as error:  # FileNotFoundError locally, BeamIOError through FileSystems
        raise FileNotFoundError(
            f"{path}: cannot read the manifest ({error}); is this a curated output folder?"
        ) from error
    except pa.ArrowException as error:
        raise ValueError(f"{path}: not a parquet manifest ({error})") from error


def load_stats(root: str, open_file: Opener) -> dict[str, Any]:
    path = join(root, STATS_FILE)
    try:
        with open_file(path) as handle:
            stats = json.loads(handle.read())
    except OSError as error:
        raise FileNotFoundError(f"{path}: cannot read the stats ({error}); is this a curated output folder?") from error
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ValueError(f"{path}: not valid JSON ({error})") from error
    if not isinstance(stats, dict):
        raise ValueError(f"{path}: not a JSON object")
    check_format_version(stats.get("format_version"), f"stats {path}")
    return stats


def page(root: str, sections: list[str], problems: list[str]) -> str:
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
        f"<title>Curation report: {escape(root)}</title><style>{STYLE}</style></head><body>"
        f'<h1>Curation report</h1><p class="path">{escape(root)}</p>'
        f"{problems_section(problems)}{''.join(sections)}</body></html>\n"
    )


def problems_section(problems: list[str], shown: int = 20) -> str:
    if not problems:
        return ""
    items = "".join(f"<li>{escape(problem)}</li>" for problem in problems[:shown])
    more = f"<p>and {len(problems) - shown:,} more</p>" if len(problems) > shown else ""
    return f'<section id="problems" class="problems"><h2>Unreadable samples</h2><ul>{items}</ul>{more}</section>'


def of_kind(table: pa.Table, *kinds: str) -> pa.Table:
    return table.filter(pc.is_in(table["kind"], pa.array(kinds)))


def column_sum(table: pa.Table, name: str) -> int:
    return pc.sum(pc.cast(table[name], pa.int64())).as_py() or 0


def summary_section(manifest: pa.Table) -> str:
    rows = [summary_row(KIND_NAMES[kind], of_kind(manifest, kind)) for kind in SAMPLE_KINDS]
    rows.append(summary_row("total", manifest))
    headers = ["", "samples", "shards", "bytes", "images or frames", "tokens (estimate)", "searched for contamination"]
    return f'<section id="summary"><h2>Summary</h2>{table_html(headers, rows)}</section>'


def summary_row(name: str, table: pa.Table) -> list[str]:
    return [
        name,
        f"{table.num_rows:,}",
        f"{len(pc.unique(table['shard'])):,}",
        human_bytes(column_sum(table, "size")),
        f"{column_sum(table, 'image_count'):,}",
        f"{column_sum(table, 'token_estimate'):,}",
        f"{column_sum(table, 'dedup_checked'):,}",
    ]


def human_bytes(size: int) -> str:
    if size < 1024:
        return f"{size:,} B"
    value = size / 1024
    for unit in ("KiB", "MiB", "GiB"):
        if value < 1024:
            return f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:,.1f} TiB"


def table_html(headers: list[str], rows: list[list[str]]) -> str:
    """A table whose first column is text and the others numbers; every cell is escaped."""
    head = "".join(f"<th{'' if i == 0 else ' class=number'}>{escape(h)}</th>" for i, h in enumerate(headers))
    body = "".join(
        "<tr>"
        + "".join(f"<td{'' if i == 0 else ' class=number'}>{escape(c)}</td>" for i, c in enumerate(row))
        + "</tr>"
        for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def funnel_section(manifest: pa.Table, stats: dict[str, Any]) -> str:
    stages = stats.get("stages") or {}
    charts = []
    for kind, steps in FUNNELS.items():
        bars = [(label, stages[stage][name]) for label, stage, name in steps if name in stages.get(stage, {})]
        written = of_kind(manifest, kind).num_rows
        if bars or written:
            charts.append(bar_chart([*bars, ("written to the shards", written)], KIND_NAMES[kind]))
    body = "".join(charts) or '<p class="none">no stage counters in stats.json and no samples</p>'
    return f'<section id="funnel"><h2>Filter funnel</h2><div class="charts">{body}</div></section>'


def drops_section(stats: dict[str, Any]) -> str:
    drops = sorted((stats.get("drops") or {}).items(), key=lambda item: (-item[1], item[0]))
    body = bar_chart(drops, "dropped, by stage and reason") if drops else '<p class="none">nothing dropped</p>'
    return f'<section id="drops"><h2>Drops per reason</h2>{body}</section>'


def image_section(by_key: pa.Table, reader: SampleReader) -> str:
    candidates = of_kind(by_key, "m3w", "pair")
    with_images = candidates.filter(pc.greater(candidates["image_count"], 0))
    read = with_images.slice(0, HISTOGRAM_SAMPLE_CAP)
    infos = [info for _, record in reader.records(read) for info in image_infos(record)]
    widths = [info.original_width for info in infos]
    heights = [info.original_height for info in infos]
    ratios = [info.original_width / info.original_height for info in infos if info.original_height > 0]
    scope = (
        f"the first {read.num_rows:,} of {with_images.num_rows:,} samples with images, in key order"
        if with_images.num_rows > read.num_rows
        else f"all {with_images.num_rows:,} samples with images"
    )
    return (
        '<section id="images"><h2>Images</h2>'
        f'<p class="note">Source sizes (before resizing) of {len(infos):,} M3W and pair images, read from {scope}.</p>'
        '<div class="charts">'
        f"{histogram(widths, 'image width', 'pixels')}{histogram(heights, 'image height', 'pixels')}"
        f"{histogram(ratios, 'aspect ratio', 'width / height')}</div></section>"
    )


def image_infos(record: tuple[InterleavedDocument | ImageTextPair, Any]) -> list[ImageInfo]:
    document_or_pair, _ = record
    if isinstance(document_or_pair, InterleavedDocument):
        return [image.info for image in document_or_pair.images if image.info is not None]
    return [document_or_pair.info] if document_or_pair.info is not None else []


def documents_section(manifest: pa.Table) -> str:
    documents = of_kind(manifest, "m3w")
    return (
        '<section id="documents"><h2>M3W documents</h2><div class="charts">'
        f"{histogram(documents['image_count'].to_pylist(), 'images per document', 'images')}"
        f"{histogram(documents['token_estimate'].to_pylist(), 'text length per document', 'tokens (estimate)')}"
        "</div></section>"
    )


def contamination_section(manifest: pa.Table, stats: dict[str, Any]) -> str:
    found = stats.get("contamination") or {}
    searched = column_sum(manifest, "dedup_checked")
    note = (
        f'<p class="note">{searched:,} of {manifest.num_rows:,} samples in the shards were searched against '
        "a benchmark index; matches were dropped before writing.</p>"
    )
    if not found:
        return f'<section id="contamination"><h2>Contamination</h2><p class="none">none found</p>{note}</section>'
    rows = [
        [
            name,
            f"{c.get('training_images', 0):,}",
            f"{c.get('training_clips', 0):,}",
            f"{c.get('benchmark_items', 0):,}",
        ]
        for name, c in sorted(found.items())
    ]
    bars = sorted(
        ((name, c.get("training_images", 0) + c.get("training_clips", 0)) for name, c in found.items()),
        key=lambda bar: (-bar[1], bar[0]),
    )
    headers = ["benchmark", "training images dropped", "training clips dropped", "benchmark items matched"]
    chart = bar_chart(bars, "training images and clips dropped, per benchmark", label_width=160)
    pairs = match_pairs(stats)
    return (
        f'<section id="contamination"><h2>Contamination</h2>{table_html(headers, rows)}{chart}{pairs}{note}</section>'
    )


def match_pairs(stats: dict[str, Any]) -> str:
    """Each contaminated image or clip beside its benchmark match, with the scores that decided it."""
    records = stats.get("contaminated") or []
    if not records:
        return ""
    figures = []
    for record in records:
        decided = f"score {record['score']:.3f}"
        if record.get("inliers") is not None:
            decided += f", {record['inliers']} inliers"
        thumbnails = "".join(
            f'<img alt="{escape(alt)}" src="data:image/jpeg;base64,{record[key]}">'
            for key, alt in (("thumbnail", record["item"]), ("benchmark_thumbnail", record["match"]))
            if record.get(key)
        )
        figures.append(
            f'<figure class="match">{thumbnails}<figcaption>{escape(record["item"])} &rarr; '
            f'{escape(record["match"])}<span class="meta">{escape(decided)} ({escape(record["decided_by"])})'
            "</span></figcaption></figure>"
        )
    total = stats.get("contaminated_total", len(records))
    shown = f"{len(records):,} of {total:,}" if total > len(records) else f"{total:,}"
    return (
        f'<h3>Dropped copies ({shown}): training image, benchmark match</h3><div class="pairs">{"".join(figures)}</div>'
    )


def gallery_section(by_key: pa.Table, reader: SampleReader, samples: int) -> str:
    documents, pairs, clips = of_kind(by_key, "m3w"), of_kind(by_key, "pair"), of_kind(by_key, "video")
    shown = documents.slice(0, samples)
    parts = [
        '<section id="gallery"><h2>Gallery</h2>',
        f'<p class="note">The first {shown.num_rows:,} of {documents.num_rows:,} documents in key order, '
        "text and images in reading order (images as thumbnails).</p>",
        *(document_html(row, *record) for row, record in reader.records(shown)),
    ]
    if pairs.num_rows and samples:
        parts.append('<h3>Image-text pairs</h3><div class="pairs">')
        parts.extend(pair_html(*record) for _, record in reader.records(pairs.slice(0, min(samples, PAIRS_SHOWN))))
        parts.append("</div>")
    if clips.num_rows and samples:
        parts.append("<h3>Video clips</h3>")
        parts.extend(clip_html(*record) for _, record in reader.records(clips.slice(0, min(samples, CLIPS_SHOWN))))
    parts.append("</section>")
    return "".join(parts)


def document_html(row: dict[str, Any], doc: InterleavedDocument, jpegs: list[bytes]) -> str:
    body, index = [], 0
    for segment in doc.segments:
        if isinstance(segment, ImageSegment):
            body.append(image_figure(jpegs[index], segment, index))
            index += 1
        else:
            body.append(f'<p class="text">{escape(segment.text)}</p>')
    language = doc.language or "language unknown"
    meta = f"{row['key']} · {language} · {plural(len(jpegs), 'image')} · ~{row['token_estimate']:,} tokens"
    return (
        f'<article class="document" data-key="{escape(row["key"])}"><h4 class="url">{escape(doc.url)}</h4>'
        f'<p class="meta">{escape(meta)}</p><div class="body">{"".join(body)}</div></article>'
    )


def image_figure(jpeg: bytes, segment: ImageSegment, index: int) -> str:
    caption = segment.caption or segment.alt
    size = f" ({segment.info.original_width}×{segment.info.original_height} source)" if segment.info else ""
    return (
        f'<figure class="image">{thumbnail_img(jpeg, THUMBNAIL_SIDE, segment.alt, index)}'
        f'<figcaption>{escape(caption)}<span class="meta">{escape(size)}</span></figcaption></figure>'
    )


def pair_html(pair: ImageTextPair, jpeg: bytes) -> str:
    return (
        f'<figure class="pair">{thumbnail_img(jpeg, THUMBNAIL_SIDE, pair.caption, 0)}'
        f'<figcaption><span class="meta">{escape(pair.kind)}:</span> {escape(pair.caption)}</figcaption></figure>'
    )


def clip_html(clip: VideoTextPair, frames: list[bytes]) -> str:
    strip = "".join(thumbnail_img(frames[t], FRAME_SIDE, f"frame {t}", t) for t in spread(len(frames), FRAMES_SHOWN))
    frames_at = f"{plural(clip.frame_count, 'frame')} at {clip.fps:g} fps"
    meta = f"{clip.key} · {frames_at} from {clip.start:g} s of {clip.duration:g} s"
    return (
        f'<article class="clip" data-key="{escape(clip.key)}"><h4 class="url">{escape(clip.url)}</h4>'
        f'<p class="meta">{escape(meta)}</p><div class="frames">{strip}</div>'
        f'<p class="text">{escape(clip.text)}</p></article>'
    )


def plural(count: int, noun: str) -> str:
    return f"{count:,} {noun}{'' if count == 1 else 's'}"


def spread(count: int, most: int) -> list[int]:
    """At most `most` indices of range(count), evenly spaced, first and last included."""
    if count <= most:
        return list(range(count))
    return sorted({round(i * (count - 1) / (most - 1)) for i in range(most)})


def thumbnail_img(jpeg: bytes, side: int, alt: str, index: int) -> str:
    try:
        uri = thumbnail_uri(jpeg, side)
    except (OSError, ValueError, Image.DecompressionBombError) as error:
        return f'<p class="broken">image {index} could not be decoded ({escape(str(error))})</p>'
    return f'<img src="{uri}" alt="{escape(alt)}" data-index="{index}">'


def thumbnail_uri(jpeg: bytes, side: int) -> str:
    """The image re-encoded as a JPEG at most `side` pixels on its longer side, as a data: URI."""
    with Image.open(io.BytesIO(jpeg)) as image:
        image.draft("RGB", (side, side))
        small = image.convert("RGB")
    small.thumbnail((side, side))
    out = io.BytesIO()
    small.save(out, "JPEG", quality=80)
    return "data:image/jpeg;base64," + base64.b64encode(out.getvalue()).decode("ascii")
