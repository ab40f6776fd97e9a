"""Who FakeKubeAPI serves: one user with one bearer token, the 401 every request without it
gets, and the user name 403 messages carry. Separate from the router so the credential a test
rotates (`FakeKubeAPI.token = ...`) lives in one mutable place the router and the kubeconfig
both read.
"""

from __future__ import annotations

from dataclasses import dataclass

from wbctl.sandbox.kube.errors import ApiError


@dataclass
class Credentials:
    user: str
    token: str

    def authenticate(self, authorization: str | None, *, revoked: bool = False) -> None:
        """401 unless the Authorization header carries this token (or when `revoked`)."""
        scheme, _, presented = (authorization or "").partition(" ")
        # the scheme is case-insensitive (RFC 7235; the API server's bearer authenticator
        # compares it so): the client's in-cluster loader sends `bearer TOKEN`
        if revoked or scheme.lower() != "bearer" or presented != self.token:
            raise ApiError(401, "Unauthorized", "Unauthorized")
