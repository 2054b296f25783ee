"""A simulated X API v2: the endpoints random-likes uses, answering as X's OpenAPI spec says."""
