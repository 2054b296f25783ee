"""src/fetcher."""
