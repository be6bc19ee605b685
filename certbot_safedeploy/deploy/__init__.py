"""Effects of a deploy, in the order they happen: plan, install, service, pipeline."""
