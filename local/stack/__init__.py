"""The offline stack behind `make dev`: moto as AWS, the simulated X API, each function in its own process,
the schedule, the SQS event source mapping and the HTTP API gateway, all read from the SAM-transformed
template.yaml. `local/dev.py` is the command line; docs/local.md explains the pieces.
"""
