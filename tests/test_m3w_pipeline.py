"""The M3W job end to end on Beam: the demo site crawled to a WARC, real WARCs, saved HTML files."""

import json
from pathlib import Path

import pytest

from pipelines.cli import main
from pipelines.demo.crawl import crawl_to_warc
from pipelines.demo.site import build_demo_site
from pipelines.filters.text_quality import TextFilterConfig
from pipelines.local_server import LocalServer
from pipelines.m3w.command import run_m3w
from pipelines.m3w.document import M3WConfig
from pipelines.readers.inputs import InputConfig, check_inputs_exist, input_format
from schemas import EOC, IMAGE, InterleavedDocument
from shards.reader import iter_samples

IN_PROCESS = ["--direct_running_mode=in_memory", "--direct_num_workers=1"]
CROSS_PAGE_DROPS = ("m3w_cross_page.only_site_boilerplate", "m3w_cross_page.near_duplicate")


def documents(output: Path) -> list[InterleavedDocument]:
    lines = [line for path in sorted((output / "m3w").glob("*.jsonl")) for line in path.read_text().splitlines()]
    return [InterleavedDocument.from_dict(json.loads(line)) for line in lines]


def rejects(output: Path) -> list[dict]:
    return [json.loads(line) for path in (output / "rejects").glob("*.jsonl") for line in path.read_text().splitlines()]


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("demo")
    site = build_demo_site(root / "site")
    with LocalServer(site.root) as server:
        warc = root / "crawl.warc.gz"
        crawl_to_warc(server.url + "index.html", warc)
        output = root / "out"
        stats = run_m3w(InputConfig(patterns=(str(warc),)), M3WConfig(), str(output), 2, IN_PROCESS)
        yield server.url, output, stats


def test_demo_site_becomes_interleaved_documents(demo_run):
    base, output, _ = demo_run
    docs = {d.url.removeprefix(base): d for d in documents(output)}
    assert set(docs) == {"lagoon.html", "chicks.html", "flight.html", "conservation.html", "zoo.html"}
    for doc in docs.values():
        assert doc.text.count(IMAGE) == len(doc.images) >= 1
        assert doc.text.count(EOC) == len(doc.images) + 1
        assert doc.language == "en"
        assert "Copyright" not in doc.text and "Buy cheap binoculars" not in doc.text and "tracker" not in doc.text
    lagoon = docs["lagoon.html"]
    assert [i.url.removeprefix(base) for i in lagoon.images] == ["img/photo0.jpg", "img/photo1.jpg"]  # logo, pixel gone
    assert lagoon.images[0].caption.startswith("A flock feeding")
    assert docs["chicks.html"].images[0].url.endswith("img/photo2.jpg")  # lazy data-src, not the data: placeholder
    flight = docs["flight.html"]
    assert "(image)" in flight.text and "(EOC)" in flight.text  # the injected tokens, neutralised
    assert "café" in docs["zoo.html"].text and "keepers’ notes say" in docs["zoo.html"].text  # windows-1252 decoded


def test_drops_are_counted_and_rejects_written_with_reasons(demo_run):
    _, output, stats = demo_run
    assert stats["stages"]["warc"]["html_response"] == 7
    assert stats["stages"]["m3w"]["pages_in"] == 7 and stats["stages"]["m3w"]["documents_out"] == 5
    assert stats["drops"]["m3w_images.banned_url_substring"] >= 1  # logo-small.png
    assert stats["drops"]["m3w_images.beacon"] >= 1  # pixel.gif
    reasons = {(r["stage"], r["reason"]) for r in rejects(output)}
    assert len(rejects(output)) == 2  # index.html (a list of links) and about.html (too short)
    assert all(stage == "m3w" for stage, _ in reasons)
    assert json.loads((output / "stats.json").read_text()) == stats


def test_reruns_write_identical_files(demo_run, tmp_path):
    _, output, _ = demo_run
    warc = next(output.parent.glob("*.warc.gz"))
    run_m3w(InputConfig(patterns=(str(warc),)), M3WConfig(), str(tmp_path), 2, IN_PROCESS)
    for path in sorted((output / "m3w").glob("*.jsonl")):
        assert (tmp_path / "m3w" / path.name).read_bytes() == path.read_bytes()


def test_real_warcs_and_saved_pages(testdata, tmp_path):
    warcs = str(testdata / "web/warc/*.warc.gz")
    pages = str(testdata / "web/html/readability/*/source.html")
    config = M3WConfig(keep_documents_without_images=True)
    stats = run_m3w(
        InputConfig(patterns=(warcs, pages), html_base_url="http://fakehost/test/"),
        config,
        str(tmp_path),
        4,
        IN_PROCESS,
    )
    docs = documents(tmp_path)
    assert stats["stages"]["warc"]["skipped_revisit"] == 124
    assert stats["stages"]["html_files"]["html_file"] == 43
    assert stats["stages"]["m3w"]["pages_in"] == 43 + stats["stages"]["warc"]["html_response"]
    dropped = sum(stats["drops"].get(reason, 0) for reason in ("m3w.duplicate_page", *CROSS_PAGE_DROPS))
    assert len(docs) == stats["stages"]["m3w"]["documents_out"] - dropped >= 40
    assert stats["stages"]["m3w"]["documents_kept"] == len(docs)  # what the summary prints: what is written
    assert stats["stages"]["m3w_cross_page"]["site_boilerplate_paragraphs"] > 0  # allenai.org's, iana.org's
    assert len({d.doc_id for d in docs}) == len(docs)  # the same page crawled twice is kept once
    assert sum(len(d.images) for d in docs) > 100


def test_inputs_are_checked_before_the_job_starts(tmp_path):
    with pytest.raises(FileNotFoundError, match="nothing-here"):
        check_inputs_exist([str(tmp_path / "nothing-here.warc.gz")])
    assert input_format("a/b.warc.gz") == "warc" and input_format("x.html.gz") == "html"
    assert input_format("urls.parquet") == "urls"
    with pytest.raises(ValueError, match="cannot tell its format"):
        input_format("data.bin")


def test_fetching_images_writes_verified_shards(tmp_path, capsys):
    site = build_demo_site(tmp_path / "site")
    with LocalServer(site.root) as server:
        warc = tmp_path / "crawl.warc.gz"
        crawl_to_warc(server.url + "index.html", warc)
        output = tmp_path / "out"
        args = [
            "m3w",
            "--input",
            str(warc),
            "--output",
            str(output),
            "--fetch_images",
            "--allow_loopback",
            "--per_host_delay=0",
        ]
        assert main([*args, *IN_PROCESS]) == 0
    samples = [s for path in sorted((output / "m3w").glob("shard-*.tar")) for s in iter_samples(str(path))]
    assert len(samples) == 5 and sum(1 for s in samples for name in s if name.endswith(".jpg")) == 7
    assert not (output / "pairs").exists() and not (output / "video").exists()  # the M3W dataset only
    assert main(["verify", str(output)]) == 0
    assert "5 samples in 1 shard(s): ok" in capsys.readouterr().out


SAVED_PAGE = """<!DOCTYPE html>{head}<html><head><title>Flamingo colonies</title>{meta}</head><body><article>
<p>Lesser flamingos gather in colonies of a million birds on the soda lakes of the Rift Valley, where the water
is too alkaline for the fish that would compete with them for the blue-green algae they eat, and where few
predators can follow them across the caustic mud flats to the nests they build of it.</p>
<figure><img src="photos/colony.jpg" width="800" height="600"><figcaption>A colony at Lake Natron.</figcaption></figure>
<p>The birds filter the algae with their bills held upside down, sweeping them from side to side through the
shallow water, and a colony can eat hundreds of tons of it in a single day without exhausting the lake.</p>
</article></body></html>"""


@pytest.mark.parametrize(
    ("head", "meta"),
    [
        ("<!-- saved from url=(0048)https://birds.example.org/2019/flamingos.html -->", ""),
        ("", "<link href='https://birds.example.org/2019/flamingos.html' rel='canonical'>"),
        ("", "<meta content='https://birds.example.org/2019/flamingos.html' property='og:url'>"),
    ],
)
def test_a_saved_page_keeps_the_url_it_gives_for_itself(tmp_path, head, meta):
    """Before, a saved file without --html_base_url stood for its file:// path, and its relative image
    links resolved to files that cannot be fetched."""
    (tmp_path / "saved.html").write_text(SAVED_PAGE.format(head=head, meta=meta))
    stats = run_m3w(
        InputConfig(patterns=(str(tmp_path / "saved.html"),)),
        M3WConfig(),
        str(tmp_path / "out"),
        1,
        IN_PROCESS,
    )
    (document,) = documents(tmp_path / "out")
    assert document.url == "https://birds.example.org/2019/flamingos.html"
    assert [image.url for image in document.images] == ["https://birds.example.org/2019/photos/colony.jpg"]
    assert stats["stages"]["html_files"]["url_from_the_page"] == 1


def test_html_base_url_overrides_what_the_page_says(tmp_path):
    meta = "<link rel=canonical href='https://birds.example.org/2019/flamingos.html'>"
    (tmp_path / "saved.html").write_text(SAVED_PAGE.format(head="", meta=meta))
    config = InputConfig(patterns=(str(tmp_path / "saved.html"),), html_base_url="https://mirror.example.net/b/")
    run_m3w(config, M3WConfig(), str(tmp_path / "out"), 1, IN_PROCESS)
    (document,) = documents(tmp_path / "out")
    assert document.url == "https://mirror.example.net/b/saved.html"


ARTICLE = [
    "Lesser flamingos gather in colonies of a million birds on the soda lakes of the Rift Valley, where the water "
    "is too alkaline for the fish that would compete with them for the algae they eat.",
    "The birds filter the algae with their bills held upside down, sweeping them from side to side through the "
    "shallow water, and a colony can eat hundreds of tons of it in a single day.",
    "Chicks leave the nest after a week and gather in creches guarded by a few adults, while their parents fly "
    "to feeding grounds many kilometres away and come back to feed them crop milk.",
    "Lake Natron is the only regular breeding site of the species in East Africa, so a single failed season there "
    "can be felt in the numbers of birds counted across the whole region for years afterwards.",
    "Plans for a soda ash factory on its shore were dropped after conservation groups argued that the pumping of "
    "brine would have lowered the water and let predators walk out to the nesting islands.",
    "Researchers ring a few hundred chicks every year, and the rings read from a distance with telescopes show "
    "that birds hatched at Natron later feed at lakes as far apart as Bogoria and Makgadikgadi.",
    "Droughts shrink the lakes and crowd the birds together, and in such years outbreaks of avian cholera and "
    "toxins from blooms of other algae have killed tens of thousands of flamingos within a few weeks.",
]
OTHER = [
    "Greater flamingos breed in the Camargue, where the salt pans of the Rhone delta give them shallow water and "
    "islands that foxes cannot reach, and the colony is counted from the air every spring.",
    "Their pink colour comes from the carotenoid pigments in the shrimp and algae they eat; birds kept in zoos "
    "fade to white unless their keepers add the pigments to the food they are given.",
]
SITE_FOOTER = "Birds of the Lakes is written by volunteers. Subscribe to our newsletter for a story every week."


def site_page(path: Path, url: str, paragraphs: list[str]) -> None:
    body = "".join(f"<p>{text}</p>" for text in [*paragraphs, SITE_FOOTER])
    path.write_text(
        f"<html><head><link rel=canonical href='{url}'></head><body><article>{body}</article></body></html>"
    )


def test_site_boilerplate_and_near_duplicate_pages_go(tmp_path):
    pages = tmp_path / "pages"
    pages.mkdir()
    site = "https://birds.example.org/"
    site_page(pages / "lesser.html", site + "lesser.html", ARTICLE)
    edited = [ARTICLE[0].replace("a million", "one million"), *ARTICLE[1:]]  # a syndicated copy, one word changed
    site_page(pages / "copy.html", "https://news.example.net/flamingos.html", edited)
    site_page(pages / "greater.html", site + "greater.html", OTHER)
    site_page(pages / "footer-only.html", site + "about.html", [])
    config = M3WConfig(keep_documents_without_images=True, text=TextFilterConfig(min_document_words=1))
    stats = run_m3w(InputConfig(patterns=(str(pages / "*.html"),)), config, str(tmp_path / "out"), 1, IN_PROCESS)
    docs = {d.url: d for d in documents(tmp_path / "out")}
    copies = {site + "lesser.html", "https://news.example.net/flamingos.html"}
    assert site + "greater.html" in docs and len(copies & set(docs)) == 1  # one of the two copies is kept
    assert all(SITE_FOOTER not in d.text for d in docs.values() if d.url.startswith(site))  # on 3 pages of the site
    assert stats["drops"]["m3w_cross_page.near_duplicate"] == 1
    assert stats["drops"]["m3w_cross_page.only_site_boilerplate"] == 1  # about.html held only the footer
    assert stats["stages"]["m3w"]["documents_kept"] == len(docs) == 2
