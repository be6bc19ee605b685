"""``certbot-safedeploy doctor``: find renewals that will fail before they do.

``snapshot`` reads the files (I/O), ``checks`` judges them (pure), ``live`` tries
webroots and nsupdate servers for real.
"""
