"""The Google API fakes: Bigtable admin (bigtable/) and Cloud Monitoring (monitoring/) over gRPC
on loopback (api.py serves both; grpc.py holds what they share), so the real google-cloud
clients run unchanged against them."""
