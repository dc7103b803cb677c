import urllib.error
import urllib.request

import pytest


def test_serves_a_folder_on_loopback(tmp_path, serve_folder):
    (tmp_path / "a.txt").write_text("hello")
    base = serve_folder(tmp_path)
    assert base.startswith("http://127.0.0.1:")
    with urllib.request.urlopen(base + "a.txt", timeout=5) as response:
        assert response.read() == b"hello"
    with pytest.raises(urllib.error.HTTPError) as missing:
        urllib.request.urlopen(base + "nothing.txt", timeout=5)
    assert missing.value.code == 404


def test_testdata_is_found(testdata):
    assert (testdata / "files.tsv").is_file()
    assert (testdata / "web" / "warc").is_dir()
