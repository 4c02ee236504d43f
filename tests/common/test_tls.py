"""Server-side TLS (STRATA_TLS_CERT / STRATA_TLS_KEY): a client trusting the deployment's CA
(STRATA_TLS_CA) gets through; a plaintext client, and a TLS client that does not trust the CA, do not;
a half-configured server refuses to start."""

from __future__ import annotations

import datetime
import ipaddress
from pathlib import Path

import grpc
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from strata.client import Client, RetryPolicy
from strata.errors import StrataError
from strata.iam.v1 import iam_service_pb2

from tests.fixtures.servers import ServerThread, make_settings


def _pem_key(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _cert(subject: str, key, issuer: str, issuer_key, *, ca: bool) -> x509.Certificate:  # type: ignore[no-untyped-def]
    now = datetime.datetime.now(datetime.timezone.utc)
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
        .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if not ca:
        builder = builder.add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
    return builder.sign(issuer_key, hashes.SHA256())


def _pki(folder: Path, name: str) -> tuple[Path, Path, Path]:
    """A CA and a server certificate for 127.0.0.1 signed by it: (ca.pem, server.pem, server.key)."""
    ca_key, server_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca = _cert(f"{name} CA", ca_key, f"{name} CA", ca_key, ca=True)
    server = _cert("127.0.0.1", server_key, f"{name} CA", ca_key, ca=False)
    paths = folder / f"{name}-ca.pem", folder / f"{name}-server.pem", folder / f"{name}-server.key"
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(server.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(_pem_key(server_key))
    return paths


def _principal(client: Client) -> str:
    return client.iam.GetPrincipal(iam_service_pb2.GetPrincipalRequest(), timeout=10).actor.name


def test_a_tls_server_serves_clients_that_trust_its_ca_and_nobody_else(pg_dsn: str, tmp_path: Path) -> None:
    ca, cert, key = _pki(tmp_path, "strata")
    other_ca, _, _ = _pki(tmp_path, "other")
    server = ServerThread(
        make_settings(tmp_path / "srv", pg_dsn, tls_cert_file=cert, tls_key_file=key)
    ).start()
    once = RetryPolicy(max_attempts=1)
    try:
        with Client(server.addr, tls_ca=ca) as c:
            assert _principal(c)  # the whole stack answers over TLS
        for untrusted in (Client(server.addr, retry=once), Client(server.addr, tls_ca=other_ca, retry=once)):
            with untrusted, pytest.raises(StrataError) as e:
                _principal(untrusted)
            assert e.value.code == grpc.StatusCode.UNAVAILABLE
    finally:
        server.stop()


def test_a_certificate_without_its_key_refuses_to_start(pg_dsn: str, tmp_path: Path) -> None:
    _, cert, _ = _pki(tmp_path, "half")
    with pytest.raises(ValueError, match="STRATA_TLS_CERT and STRATA_TLS_KEY go together"):
        ServerThread(make_settings(tmp_path / "srv", pg_dsn, tls_cert_file=cert)).start()
