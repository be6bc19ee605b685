"""Command bodies: one module per subcommand; :mod:`certbot_safedeploy.cli` only parses and dispatches."""
