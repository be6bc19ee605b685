"""ACME Renewal Information (RFC 9773): renew when the CA says so.

certid (pure: the certificate's identifier), schedule (pure: when to check and when to
renew), fetch (HTTP: the directory and renewalInfo), record (the state kept per
lineage), cycle (one pass over lineages).
"""
