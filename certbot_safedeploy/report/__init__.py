"""Reports of what happened: notifications and the status file / Prometheus textfile."""
