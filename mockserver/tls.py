"""HTTPS for SDKs and frontends that insist on an https base URL.

Either the user's own certificate and key (``--tls-cert``/``--tls-key``, PEM), or
``--tls self-signed``: a local certificate authority and a server certificate it signs for
localhost, 127.0.0.1, ::1 and the bound host, made with ``cryptography`` and kept in a directory
(``--tls-dir``, default ``$XDG_CACHE_HOME/mockserver/tls``) so clients need to trust the CA only
once (``REQUESTS_CA_BUNDLE``, ``NODE_EXTRA_CA_CERTS``, ``SSL_CERT_FILE``...). The pair is reused
while it is valid and covers the host; the CA's key never leaves that directory.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import ssl
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from mockserver.web.guard import is_ip

if TYPE_CHECKING:  # imported where certificates are read or made: plain HTTP never loads cryptography
    from collections.abc import Callable

    from cryptography import x509
    from cryptography.hazmat.primitives.asymmetric import ec

CA_DAYS = 3650
LEAF_DAYS = 397  # what browsers accept for a server certificate
RENEW_BEFORE = dt.timedelta(days=30)
_WILDCARD_HOSTS = ("", "0.0.0.0", "::")


@dataclass(frozen=True)
class TlsFiles:
    cert: Path  # the server certificate (followed by its CA when self-signed)
    key: Path
    ca: Path | None  # the CA to trust, for a self-signed pair
    fingerprint: str  # SHA-256 of the server certificate, colon-separated hex

    def describe(self) -> str:
        lines = [f"TLS certificate {self.cert} (SHA-256 {self.fingerprint})"]
        if self.ca is not None:
            lines.append(f"trust this CA in your clients: {self.ca}")
        return "\n".join(lines)


def default_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "mockserver" / "tls"


def fingerprint(cert: x509.Certificate) -> str:
    from cryptography.hazmat.primitives import hashes

    return cert.fingerprint(hashes.SHA256()).hex(":").upper()


def _names(host: str) -> list[str]:
    names = ["localhost", "127.0.0.1", "::1"]
    if host not in _WILDCARD_HOSTS and host not in names:
        names.append(host)
    return names


def _san(names: list[str]) -> x509.SubjectAlternativeName:
    from cryptography import x509

    entries: list[x509.GeneralName] = []
    for name in names:
        try:
            entries.append(x509.IPAddress(ipaddress.ip_address(name)))
        except ValueError:
            entries.append(x509.DNSName(name))
    return x509.SubjectAlternativeName(entries)


def _write(path: Path, data: bytes, private: bool = False) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600 if private else 0o644)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    os.replace(tmp, path)


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _usable(cert_path: Path, key_path: Path, ca_path: Path, names: list[str]) -> bool:
    from cryptography import x509

    if not (cert_path.is_file() and key_path.is_file() and ca_path.is_file()):
        return False
    try:
        cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except (ValueError, x509.ExtensionNotFound):
        return False
    dns = set(san.get_values_for_type(x509.DNSName))
    ips = set(san.get_values_for_type(x509.IPAddress))
    covered = all((ipaddress.ip_address(n) in ips) if is_ip(n) else (n in dns) for n in names)
    return covered and cert.not_valid_after_utc - RENEW_BEFORE > dt.datetime.now(dt.UTC)


def self_signed(directory: str | os.PathLike[str] | None = None, host: str = "127.0.0.1") -> TlsFiles:
    """A local CA and a server certificate signed by it, made once and reused while valid."""
    from cryptography import x509

    folder = Path(directory) if directory else default_dir()
    folder.mkdir(parents=True, exist_ok=True)
    cert_path, key_path, ca_path = folder / "cert.pem", folder / "key.pem", folder / "ca.pem"
    names = _names(host)
    if not _usable(cert_path, key_path, ca_path, names):
        _make(folder, names)
    cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
    return TlsFiles(cert_path, key_path, ca_path, fingerprint(cert))


def _make(folder: Path, names: list[str]) -> None:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)  # tolerate a little clock skew
    ca_key_path = folder / "ca-key.pem"
    ca_path = folder / "ca.pem"
    ca_cert: x509.Certificate | None = None
    ca_key: ec.EllipticCurvePrivateKey | None = None
    if ca_path.is_file() and ca_key_path.is_file():
        try:
            ca_cert = x509.load_pem_x509_certificate(ca_path.read_bytes())
            loaded = serialization.load_pem_private_key(ca_key_path.read_bytes(), password=None)
            ca_key = loaded if isinstance(loaded, ec.EllipticCurvePrivateKey) else None
            if ca_cert.not_valid_after_utc - RENEW_BEFORE < now:
                ca_cert = None
        except ValueError:
            ca_cert = None
    if ca_cert is None or ca_key is None:
        ca_key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "mockserver local CA")])
        ca_cert = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(subject)
            .public_key(ca_key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now)
            .not_valid_after(now + dt.timedelta(days=CA_DAYS))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=True,
                    crl_sign=True,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256())
        )
        _write(ca_key_path, _key_pem(ca_key), private=True)
        _write(ca_path, ca_cert.public_bytes(serialization.Encoding.PEM))
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])]))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=LEAF_DAYS))
        .add_extension(_san(names), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_cert.public_key()),  # type: ignore[arg-type]
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    _write(folder / "key.pem", _key_pem(key), private=True)
    chain = leaf.public_bytes(serialization.Encoding.PEM) + ca_cert.public_bytes(serialization.Encoding.PEM)
    _write(folder / "cert.pem", chain)


def given(cert: str, key: str) -> TlsFiles:
    """The user's own pair, checked now so a typo fails at start, not at the first handshake."""
    from cryptography import x509

    cert_path, key_path = Path(cert), Path(key)
    for path in (cert_path, key_path):
        if not path.is_file():
            raise ValueError(f"TLS file {path} does not exist")
    server_context(cert_path, key_path)  # raises ValueError when they do not fit together
    try:
        first = x509.load_pem_x509_certificate(cert_path.read_bytes())
    except ValueError as exc:
        raise ValueError(f"{cert_path} is not a PEM certificate: {exc}") from None
    return TlsFiles(cert_path, key_path, None, fingerprint(first))


def server_context(cert: Path, key: Path) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        context.load_cert_chain(str(cert), str(key))
    except (ssl.SSLError, OSError) as exc:
        raise ValueError(f"cannot use {cert} with {key}: {exc}") from None
    return context


def files_for(settings: object) -> TlsFiles | None:
    """The certificate files ``settings`` ask for (``tls``, ``tls_cert``/``tls_key``, ``tls_dir``), or None for HTTP."""
    cert, key = getattr(settings, "tls_cert", None), getattr(settings, "tls_key", None)
    if cert and key:
        return given(cert, key)
    if getattr(settings, "tls", None) == "self-signed":
        return self_signed(getattr(settings, "tls_dir", None), getattr(settings, "host", "127.0.0.1"))
    return None


def serve_https(
    app: object,
    settings: object,
    files: TlsFiles,
    banner: Callable[[int], None],
    say: Callable[[str], None] = print,
) -> int:
    """`mockserver serve` with TLS: cheroot's thread pool and its builtin (stdlib ssl) adapter.

    waitress, the plain-HTTP server, has no TLS of its own; cheroot is a maintained pure-Python
    WSGI server whose adapter wraps each accepted connection with the stdlib's ssl module. Bodies
    over every cap are refused by the app, in the API's JSON, as over HTTP (``cheroot_bodies``).
    cheroot closes a connection idle or stalled for ``--channel-timeout``; it has no connection
    limit. ``banner`` prints what runs where, as for HTTP (the admin token included); ``say``
    prints a line as serve does (text or JSON).
    """
    import signal

    from cheroot import wsgi
    from cheroot.ssl.builtin import BuiltinSSLAdapter

    from mockserver.web import cheroot_bodies

    host, port = getattr(settings, "host", "127.0.0.1"), getattr(settings, "port", 8010)
    server = wsgi.Server(
        (host, port),
        app,
        numthreads=getattr(settings, "threads", 8),
        server_name="mockserver",
        timeout=getattr(settings, "channel_timeout", 10),
    )
    cheroot_bodies.install(server, settings.body_cap)  # type: ignore[attr-defined]
    server.ssl_adapter = BuiltinSSLAdapter(str(files.cert), str(files.key))

    def _stop(signum: int, _frame: object) -> None:
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    server.prepare()
    bound = server.bind_addr[1] if isinstance(server.bind_addr, tuple) else port
    banner(bound)
    for line in files.describe().splitlines():
        say(line)
    try:
        server.serve()
    except SystemExit:
        pass
    finally:
        server.stop()
    say("mockserver stopped")
    return 0
