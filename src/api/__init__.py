"""src/api."""
