"""What every layer uses and nothing else: settings, error codes, safe text, caches, worker processes, queues."""
