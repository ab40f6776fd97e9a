"""The Google API fakes: Bigtable admin (bigtable/) and Cloud Monitoring (monitoring/) as service
objects, each with its own state, served over gRPC on loopback by one server shell (grpc.py);
api.py composes them into FakeGoogleAPIs, so the real google-cloud clients run unchanged
against them."""
