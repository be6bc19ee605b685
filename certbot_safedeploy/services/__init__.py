"""Services that read deployed certificates: presets (check, reload, probe), readers of
their effective configuration, and the live/ trap finder behind ``doctor`` and ``adopt``."""
