"""Pure parsers for values written as text (host:port, numbers); no I/O."""
