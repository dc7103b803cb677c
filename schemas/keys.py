"""Stable sample keys: a hash of the source URL and the content, so reruns produce the same keys.

Keys are lowercase hex with no dots, because webdataset splits a member name at its first dot.
"""

import hashlib

KEY_LENGTH = 32


def stable_key(source_url: str, content: str | bytes) -> str:
    digest = hashlib.sha256()
    digest.update(source_url.encode("utf-8"))
    digest.update(b"\0")
    digest.update(content.encode("utf-8") if isinstance(content, str) else content)
    return digest.hexdigest()[:KEY_LENGTH]


def is_valid_key(key: str) -> bool:
    return len(key) == KEY_LENGTH and all(c in "0123456789abcdef" for c in key)
