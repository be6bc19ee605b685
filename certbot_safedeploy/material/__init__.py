"""Readers: certificate material and certbot's files, read into memory (lineages, trust anchors, keys, CSRs, renewal configs)."""
