"""The version of the on-disk format (shard samples, manifest, stats). Readers refuse what they don't know."""

FORMAT_VERSION = 1
SUPPORTED_FORMAT_VERSIONS = frozenset({1})


class UnsupportedFormatVersion(ValueError):
    pass


def check_format_version(found: object, where: str) -> int:
    """Return `found` if this reader understands it; otherwise raise an error that names `where`."""
    if found is None:
        raise UnsupportedFormatVersion(f"{where}: no format_version field; this is not flamingo-curate output")
    if not isinstance(found, int) or found not in SUPPORTED_FORMAT_VERSIONS:
        supported = ", ".join(str(v) for v in sorted(SUPPORTED_FORMAT_VERSIONS))
        raise UnsupportedFormatVersion(
            f"{where}: format version {found!r} is not supported by this reader (supports {supported}); "
            "use the flamingo-curate release that wrote it"
        )
    return found
