"""Images: decode + validate + resize + hash + encode per core, ours vs img2dataset's resizer on the
same real images and settings (320 px longest side, keep ratio, JPEG quality 90, min side 64,
max aspect ratio 3); and fetch throughput from a local server, ours vs a plain urllib loop.

    make bench-deps   # img2dataset's resizer (installed without its pins, see the Makefile)
    .venv/bin/python benchmarks/image_processing.py [--testdata PATH] [--rounds 3] [--quick]
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import hashlib
import importlib.util
import io
import os
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import simplejpeg
from common import default_testdata, interleaved_rates
from PIL import Image, ImageOps

from pipelines.fetch.address_guard import AddressPolicy
from pipelines.fetch.http_client import FetchConfig, PoliteFetcher
from pipelines.images.processing import ImageRejected, ImageRules, ProcessedImage, process_image
from pipelines.images.stage import DEFAULT_THREADS, fetch_and_process

RULES = ImageRules()
os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")  # albumentations would look for updates online


def img2dataset_resizer():
    """img2dataset's Resizer, loaded from its module file: its package __init__ pulls in wandb."""
    spec = importlib.util.find_spec("img2dataset")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / "resizer.py"
    module_spec = importlib.util.spec_from_file_location("img2dataset_resizer", path)
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    return module.Resizer(
        image_size=RULES.target_size,
        resize_mode=module.ResizeMode.keep_ratio_largest,  # our keep_ratio: the longer side to 320
        resize_only_if_bigger=True,
        encode_quality=RULES.jpeg_quality,
        encode_format="jpg",
        min_image_size=RULES.min_side,
        max_aspect_ratio=RULES.max_aspect_ratio,
    )


def ours(data: bytes) -> ProcessedImage | None:
    with contextlib.suppress(ImageRejected):
        return process_image(data, RULES)
    return None


def decode_only(data: bytes) -> None:
    with contextlib.suppress(ValueError):
        height, width = simplejpeg.decode_jpeg_header(data)[:2]
        scale = min(1.0, 2 * RULES.target_size / max(width, height))
        simplejpeg.decode_jpeg(data, min_width=round(width * scale), min_height=round(height * scale))


def pillow_thumbnail(data: bytes) -> bytes | None:
    """What a Pillow user writes: thumbnail() drafts the JPEG and resizes with Lanczos (reducing gap 2)."""
    try:
        image = ImageOps.exif_transpose(Image.open(io.BytesIO(data))).convert("RGB")
    except (OSError, ValueError):
        return None
    hashlib.sha256(data).hexdigest()
    image.thumbnail((RULES.target_size, RULES.target_size), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=RULES.jpeg_quality)
    return out.getvalue()


def mean_psnr(sources: list[bytes], jpegs: list[bytes | None], kept: list[int]) -> float:
    scores = []
    for i in kept:
        output = np.asarray(Image.open(io.BytesIO(jpegs[i])).convert("RGB"), dtype=np.float64)
        upright = ImageOps.exif_transpose(Image.open(io.BytesIO(sources[i]))).convert("RGB")
        size = (output.shape[1], output.shape[0])
        reference = np.asarray(upright.resize(size, Image.Resampling.LANCZOS), dtype=np.float64)
        scores.append(10 * np.log10(255**2 / max(np.mean((output - reference) ** 2), 1e-9)))
    return float(np.mean(scores))


class _SlowHandler(SimpleHTTPRequestHandler):
    """A static server that answers after a delay, like a host across the internet."""

    latency = 0.0

    def do_GET(self) -> None:
        time.sleep(self.latency)
        super().do_GET()

    def log_message(self, *args) -> None:
        pass


def fetch_rates(folder: Path, names: list[str], copies: int, latency: float) -> dict[str, float]:
    handler = functools.partial(type("Handler", (_SlowHandler,), {"latency": latency}), directory=str(folder))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        base = f"http://127.0.0.1:{server.server_address[1]}/"
        urls = [f"{base}{name}?copy={i}" for i in range(copies) for name in names]
        # One host stands for many here, so the per-host politeness limits are lifted.
        config = FetchConfig(
            addresses=AddressPolicy(allow_loopback=True),
            per_host_delay=0,
            max_concurrent_per_host=DEFAULT_THREADS,
            respect_robots=False,
        )
        fetcher = PoliteFetcher(config)

        def urllib_get(url: str) -> bytes:
            with urllib.request.urlopen(url, timeout=10) as response:
                return response.read()

        methods = {
            f"ours: PoliteFetcher, {DEFAULT_THREADS} threads": (lambda url: fetcher.fetch(url).body, DEFAULT_THREADS),
            f"urllib, {DEFAULT_THREADS} threads": (urllib_get, DEFAULT_THREADS),
            "urllib, sequential": (urllib_get, 1),
            f"ours: fetch + process, {DEFAULT_THREADS} threads": (
                lambda url: fetch_and_process(url, fetcher, RULES).status,
                DEFAULT_THREADS,
            ),
        }
        rates = {}
        for name, (get, threads) in methods.items():
            started = time.perf_counter()
            with ThreadPoolExecutor(threads) as pool:
                results = list(pool.map(get, urls))
            rates[name] = len(urls) / (time.perf_counter() - started)
            assert all(results), f"{name}: some fetches failed"
    finally:
        server.shutdown()
        server.server_close()
    return rates


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--testdata", type=Path, default=default_testdata())
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--fetch_copies", type=int, default=3, help="times each image is fetched (distinct URLs)")
    parser.add_argument("--latency_ms", type=float, default=50, help="server delay per request, like a real host")
    parser.add_argument("--quick", action="store_true", help="every 4th image, one round, one copy (CI)")
    args = parser.parse_args()
    if args.quick:
        args.rounds, args.fetch_copies = 1, 1

    folder = args.testdata / "images"
    paths = sorted(p for p in folder.rglob("*") if p.suffix.lower() in (".jpg", ".jpeg", ".png", ".gif", ".webp"))
    paths = paths[::4] if args.quick else paths
    images = [p.read_bytes() for p in paths]
    megapixels = sum(_pixels(d) for d in images) / 1e6 / len(images)
    print(f"{len(images)} real images, mean {megapixels:.2f} MP, {sum(map(len, images)) / len(images) / 1e3:.0f} KB")
    print(f"one core (process CPU time), the methods taking turns image by image, each the best of {args.rounds}; PSNR")
    print("of the JPEG against a Lanczos resize of the full decode to the same size (the higher, the closer), over")
    print("the images every method kept\n")
    methods = {"floor: libjpeg-turbo decode at 2x the output (simplejpeg), nothing else": (decode_only, None)}
    resizer = img2dataset_resizer()
    if resizer is not None:
        methods["img2dataset 1.47 resizer (OpenCV, area) + sha256"] = (
            lambda d: (resizer(io.BytesIO(d))[0], hashlib.sha256(d).hexdigest()),
            lambda out: out[0],
        )
    methods["Pillow: thumbnail (JPEG draft + Lanczos) + save + sha256"] = (pillow_thumbnail, lambda out: out)
    methods["ours: simplejpeg scaled decode + OpenCV area + sha256 + pHash"] = (
        ours,
        lambda out: out.jpeg if out else None,
    )
    print("| decode + validate + resize (+ hash) + encode | images/s/core | PSNR dB |\n| --- | ---: | ---: |")
    if resizer is None:
        print("| img2dataset resizer (OpenCV) | not installed: make bench-deps | |")
    outputs = {name: [jpeg(method(d)) for d in images] for name, (method, jpeg) in methods.items() if jpeg}
    kept = [i for i in range(len(images)) if all(jpegs[i] is not None for jpegs in outputs.values())]
    rates = interleaved_rates({name: method for name, (method, _) in methods.items()}, images, args.rounds)
    for name, (_, jpeg) in methods.items():
        quality = f"{mean_psnr(images, outputs[name], kept):.2f}" if jpeg else ""
        print(f"| {name} | {rates[name]:.1f} | {quality} |")

    print(f"\n| fetch from 127.0.0.1, {args.latency_ms:.0f} ms latency (wall clock) | images/s |\n| --- | ---: |")
    names = [str(p.relative_to(folder)) for p in paths]
    for name, rate in fetch_rates(folder, names, args.fetch_copies, args.latency_ms / 1000).items():
        print(f"| {name} | {rate:.1f} |")


def _pixels(data: bytes) -> int:
    width, height = Image.open(io.BytesIO(data)).size
    return width * height


if __name__ == "__main__":
    main()
