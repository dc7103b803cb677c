"""The image stage shared by the M3W and pair jobs: fetch, decode, validate, resize, hash."""
