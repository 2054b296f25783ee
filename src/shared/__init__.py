"""The random-likes domain, shared by the fetcher, the worker and the api functions."""
