"""ACME challenge solvers shared by the certbot plugin and the manual hooks.

``validate``, ``tsigkey`` and ``dnsmsg`` are pure; ``webroot``, ``httpcheck``,
``dnsclient``, ``propagation``, ``http01`` and ``dns01`` own the I/O.
"""
