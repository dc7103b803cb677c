"""Training data from `curate` shards: one stream of padded batches per dataset (M3W, ALIGN, LTIP, VTP),
read with webdataset through `shards/` and `schemas/` only."""
