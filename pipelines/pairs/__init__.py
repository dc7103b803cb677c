"""Image-text pairs: ALIGN-style (alt text) and LTIP-style (long captions such as <figcaption>)."""
