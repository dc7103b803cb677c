"""Readers turn inputs (WARC files, HTML files, URL lists) into `RawPage`s."""
