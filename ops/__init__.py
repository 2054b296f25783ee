"""The operator's command line, `random-likes` (ops.cli:main): status, dead letters, subscribers.

Never imported by src/: it reads the same table and queues as the functions do, from outside, through
CloudFormation's names for them (ops/discover.py). docs/operations.md is its manual.
"""
