"""The TOML configuration: one model, each section parsed once by the module that owns its schema."""
