"""A certificate file that cannot be used is bad input, named with what is wrong (issue 17, items 0-1)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.support.redis import make_ca
from wbctl.adapters.tls_files import ca_file, client_pair
from wbctl.errors import UsageError


def test_a_ca_certificate_is_accepted(tmp_path: Path) -> None:
    _, crt = make_ca(tmp_path, "ca")
    assert ca_file(str(crt), "redis-ca-file") == str(crt)


@pytest.mark.parametrize(
    ("arrange", "wrong"),
    [
        (lambda d: d / "missing.pem", "no such file"),
        (lambda d: d, "is a directory"),
        (lambda d: (d / "empty.pem", (d / "empty.pem").write_text(""))[0], "is empty"),
        (lambda d: (d / "notes.txt", (d / "notes.txt").write_text("not a certificate\n"))[0], "not a PEM certificate"),
        (
            lambda d: (d / "half.pem", (d / "half.pem").write_text("-----BEGIN CERTIFICATE-----\nAAAA\n"))[0],
            "not a PEM certificate",
        ),
    ],
    ids=["missing", "directory", "empty", "text", "truncated-pem"],
)
def test_an_unusable_ca_file_is_one_line_naming_it(tmp_path: Path, arrange, wrong: str) -> None:
    path = arrange(tmp_path)
    with pytest.raises(UsageError) as caught:
        ca_file(str(path), "mysql-ca-file")
    message = str(caught.value)
    assert message.startswith(f"mysql-ca-file {path}: ") and wrong in message and "\n" not in message


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file: no unreadable file to test with")
def test_an_unreadable_ca_file(tmp_path: Path) -> None:
    _, crt = make_ca(tmp_path, "ca")
    crt.chmod(0)
    with pytest.raises(UsageError, match="cannot be read"):
        ca_file(str(crt), "redis-ca-file")


def test_a_key_that_is_not_the_certificates_is_refused(tmp_path: Path) -> None:
    key, crt = make_ca(tmp_path, "one")
    other_key, _ = make_ca(tmp_path, "two")
    client_pair(str(crt), str(key), "ssl-cert", "ssl-key")
    with pytest.raises(UsageError, match="not a certificate and its key"):
        client_pair(str(crt), str(other_key), "ssl-cert", "ssl-key")
