"""The crash, corruption and concurrency harnesses (``tools/`` has their command lines)."""
