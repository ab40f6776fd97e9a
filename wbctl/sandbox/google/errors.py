"""InvalidArgument: the one error the Google fakes' pure rules raise (a bad filter, aggregation
or cluster update); the gRPC shell (grpc.py) answers it as INVALID_ARGUMENT with its
message. On its own so the Monitoring and Bigtable rules share it without importing each other
or gRPC.
"""

from __future__ import annotations


class InvalidArgument(ValueError):
    """Becomes grpc.StatusCode.INVALID_ARGUMENT with this message."""
