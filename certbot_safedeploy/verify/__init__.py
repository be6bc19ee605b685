"""Pure checks on certificate material: no file, network or process I/O.

Each module checks one thing and returns :class:`~.report.Finding` objects.
:func:`~.lineage.verify_lineage` runs them all over an in-memory lineage.
"""
