"""`curate demo`: build a small website, serve it on 127.0.0.1, crawl it to a WARC, curate it."""

from __future__ import annotations

import argparse
import json
import shutil
import time
from pathlib import Path

from pipelines.decontamination import DecontaminationConfig
from pipelines.demo.benchmark import build_demo_index
from pipelines.demo.crawl import crawl_to_warc
from pipelines.demo.site import build_demo_site
from pipelines.fetch.address_guard import AddressPolicy
from pipelines.fetch.http_client import FetchConfig
from pipelines.images.stage import ImageStage
from pipelines.local_server import LocalServer
from pipelines.outcome import DEFAULT_MAX_ERROR_RATE
from pipelines.readers.inputs import InputConfig
from pipelines.run.command import report_run, run_all
from pipelines.run.dag import RunConfig
from pipelines.video.clips import ClipRules
from pipelines.video.config import VideoJob
from pipelines.video.download import DownloadConfig


def add_parser(subcommands) -> None:
    parser = subcommands.add_parser(
        "demo",
        help="run the whole curation on a generated website served from 127.0.0.1",
        description="Generates a website (pages, images, a video) and a small evaluation benchmark holding a "
        "copy of one of its photos, serves the site on 127.0.0.1, crawls it into a WARC file and runs the "
        "curation pipeline on it with the embedded Beam runner, decontaminating against that benchmark.",
    )
    parser.add_argument("--output", type=Path, default=Path("demo-output"), help="output folder (replaced)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace, beam_args: list[str]) -> int:
    started = time.monotonic()
    output: Path = args.output
    if output.exists():
        shutil.rmtree(output)
    (output / "input").mkdir(parents=True)
    site = build_demo_site(output / "site")
    with LocalServer(site.root) as server:
        warc_path = output / "input" / "demo.warc.gz"
        crawled = crawl_to_warc(server.url + "index.html", warc_path)
        # The site is ours and on loopback: allow that address, and skip the politeness delay.
        fetch = FetchConfig(addresses=AddressPolicy(allow_loopback=True), per_host_delay=0)
        inputs = InputConfig(patterns=(str(warc_path),), fetch=fetch)
        index = build_demo_index(site.root, site.images[1], output / "benchmark")
        images = ImageStage(decontamination=DecontaminationConfig(index))
        videos = VideoJob(DownloadConfig(addresses=fetch.addresses), ClipRules(), images.decontamination)
        config = RunConfig(inputs=inputs, output=str(output), fetch=fetch, images=images, videos=videos)
        stats = run_all(config, beam_args)

    summary = {
        "site": {"pages": len(site.pages), "images": len(site.images), "videos": 1, "served_at": server.url},
        "warc": {"path": str(warc_path), "pages_crawled": len(crawled), "records": stats["stages"].get("warc", {})},
        "m3w": stats["stages"].get("m3w", {}),
        "sizes": stats["sizes"],
        "contamination": stats["contamination"],
        "seconds": round(time.monotonic() - started, 1),
    }
    (output / "summary.json").write_text(json.dumps(summary, indent=2))
    _print_summary(summary, output)
    report_run(stats, config.datasets, str(output), DEFAULT_MAX_ERROR_RATE)
    print(f"  inspect it with: curate inspect {output}   curate verify {output}   curate report {output}")
    return 0


def _print_summary(summary: dict, output: Path) -> None:
    print(f"curate demo: finished in {summary['seconds']} s; output in {output}/")
    site = summary["site"]
    print(
        f"  website     {site['pages']} pages, {site['images']} photos, {site['videos']} video at {site['served_at']}"
    )
    warc = summary["warc"]
    print(f"  WARC        {warc['pages_crawled']} pages crawled -> {warc['path']}")
    for name, value in sorted(warc["records"].items()):
        print(f"    {name:<28} {value}")
    for benchmark, found in summary["contamination"].items():
        print(
            f"  benchmark   {benchmark}: {found['training_images']} training image(s) dropped as copies of "
            f"{found['benchmark_items']} benchmark item(s)"
        )
