"""Bigtable admin's fake: the gRPC service (service.py) over Bigtable's rules for
PartialUpdateCluster (rules.py, pure): the update mask paths and the autoscaling limits (CPU
target 10-80 %, max <= 10 x min, min >= 1, storage target per node by storage type)."""
