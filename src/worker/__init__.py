"""src/worker."""
