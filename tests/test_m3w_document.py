"""One page -> one M3W document: the order of the rules, the cheap and decisive ones first."""

from pipelines.m3w.document import M3WConfig, build_document
from pipelines.readers.page import RawPage

PAGE = RawPage(
    url="http://site.test/short.html",
    body=b"<html><body><article><p>Far too short.</p><img src='/img/logo-small.png'></article></body></html>",
)


def test_a_page_left_without_images_is_rejected_before_its_text_is_judged():
    result = build_document(PAGE, M3WConfig())
    assert (result.rejection, dict(result.dropped_images)) == ("no_images", {"banned_url_substring": 1})
    assert not result.dropped_paragraphs  # the text rules never ran


def test_keeping_pages_without_images_leaves_the_text_rules_to_decide():
    result = build_document(PAGE, M3WConfig(keep_documents_without_images=True))
    assert result.rejection == "too_few_words"
    assert dict(result.dropped_images) == {"banned_url_substring": 1}
