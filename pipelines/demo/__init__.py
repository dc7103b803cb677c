"""`curate demo`: a website of the project's own, served on 127.0.0.1, crawled to a WARC and curated."""
