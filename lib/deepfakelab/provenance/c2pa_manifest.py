"""C2PA Content Credentials on the files the kit generates: sign, and read back.

The library: ``c2pa-python`` 0.38.1 (PyPI, MIT/Apache-2.0), the Content Authenticity
Initiative's binding to the C2PA reference implementation ``c2pa-rs`` (``sdk_version()`` says
0.91.3). Inspected from its wheel: a ctypes wrapper (``c2pa/c2pa.py``) around one native library,
``c2pa/libs/libc2pa_c.so`` (Rust, about 50 MB unpacked), manylinux_2_28 x86_64; it depends on
``cryptography``, ``requests`` and ``toml`` (all light, pure Python or already present). It ships
no models. It signs and reads JPEG, PNG, MP4/MOV, WebP and more (``Builder.get_supported_mime_types``).

Signing (``Signer.from_info(C2paSignerInfo(alg, cert_chain_pem, private_key_pem, ta_url))``):
ES256/384/512, PS256/384/512 and Ed25519. Measured here: ``c2pa-rs`` accepts a certificate chain
made locally with ``cryptography`` (an end-entity certificate with the digitalSignature key usage
and the emailProtection extended key usage, issued by a local CA whose certificate follows it in
the PEM), with no timestamp authority (``ta_url=None``: nothing goes over the network). Its
reader then says ``Valid`` with ``signingCredential.untrusted``: the signature and the hashes
check out, but the signer is not on any trust list. That is the truth about a kit-made key, and
:func:`read_manifest` reports it as ``trusted: False``. Changing one byte of the media makes the
reader say ``Invalid`` (``assertion.dataHash.mismatch`` / ``assertion.bmffHash.mismatch``).

Which key signs (:func:`signing_identity`):

1. the instructor's, when ``DEEPFAKELAB_SIGNING_KEY`` and ``DEEPFAKELAB_SIGNING_CERTS`` name a
   PEM private key and a PEM certificate chain (end-entity first): a course can get a certificate
   from a CA on the C2PA trust list and every student's fakes then verify as trusted elsewhere;
2. otherwise a kit-made local one: an EC P-256 key and a two-certificate chain (a local CA and
   the signer it issued, ten years) made once and kept outside the project, in one file
   ``local-signer.pem`` (readable by its owner only) in ``$DEEPFAKELAB_PROVENANCE_DIR`` or
   ``${XDG_CONFIG_HOME:-~/.config}/deepfakelab/provenance/``.
   Other verifiers report such a manifest as signed by an untrusted certificate.

The manifest (:func:`sign_file`): one ``c2pa.created`` action with the IPTC digital source type
``trainedAlgorithmicMedia``, the kit and its version as the claim generator, and the inputs (the
source photo and the driving video) as ``inputTo`` ingredients carrying only a title, a format and
their SHA-256 (``metadata``: ``org.deepfakelab.sha256``): they are added from an empty stream, so
no pixel, thumbnail or manifest of theirs enters the file.
"""

from __future__ import annotations

import datetime
import hashlib
import io
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import c2pa
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from PIL import Image

from .. import __version__
from ..errors import ConfigError, DataError

TRAINED_ALGORITHMIC_MEDIA = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"
KEY_ENV, CERTS_ENV, DIR_ENV = (
    "DEEPFAKELAB_SIGNING_KEY",
    "DEEPFAKELAB_SIGNING_CERTS",
    "DEEPFAKELAB_PROVENANCE_DIR",
)
#: Formats the kit signs, by suffix.
MIME_TYPES = {
    ".mp4": "video/mp4",
    ".mov": "video/quicktime",
    ".m4v": "video/x-m4v",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
}
SHA256_KEY = "org.deepfakelab.sha256"
#: The kit-made key and its certificate chain, one PEM file in :func:`provenance_dir`.
LOCAL_SIGNER = "local-signer.pem"


class SigningError(DataError):
    """Signing a file failed; ``reason`` is what ``c2pa-rs`` (or the file system) said."""

    def __init__(self, path: Path, reason: str):
        super().__init__(f"{path}: cannot sign a C2PA manifest into it ({reason})")
        self.path, self.reason = path, reason


@dataclass(frozen=True)
class SigningIdentity:
    """A private key and certificate chain (PEM), where they came from, and the C2PA algorithm."""

    key_pem: bytes
    chain_pem: bytes
    alg: c2pa.C2paSigningAlg
    source: str  # "instructor" or "local"
    where: str = ""  # the file(s) they were read from, for messages


@dataclass(frozen=True)
class ManifestReport:
    """What the C2PA reader said about a file."""

    state: str  # "valid", "invalid" or "none"
    trusted: bool = False
    signer: str | None = None
    generator: str | None = None
    digital_source_type: str | None = None
    failures: tuple[str, ...] = ()


def provenance_dir() -> Path:
    """Where the kit keeps its local signing key: never inside the project."""
    if os.environ.get(DIR_ENV):
        return Path(os.environ[DIR_ENV]).expanduser()
    base = os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config"
    return Path(base).expanduser() / "deepfakelab" / "provenance"


def _alg_for(key) -> c2pa.C2paSigningAlg:
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return {
            256: c2pa.C2paSigningAlg.ES256,
            384: c2pa.C2paSigningAlg.ES384,
            521: c2pa.C2paSigningAlg.ES512,
        }.get(key.curve.key_size, c2pa.C2paSigningAlg.ES256)
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return c2pa.C2paSigningAlg.ED25519
    if isinstance(key, rsa.RSAPrivateKey):
        return c2pa.C2paSigningAlg.PS256
    raise ConfigError(
        f"{KEY_ENV}: a {type(key).__name__} key cannot sign C2PA manifests (use EC, Ed25519 or RSA)"
    )


def _make_local_identity(directory: Path) -> None:
    """A local CA and an end-entity signing certificate (10 years), written to ``directory``."""
    now = datetime.datetime.now(datetime.timezone.utc)
    valid = (now - datetime.timedelta(days=1), now + datetime.timedelta(days=3650))
    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_name = _kit_name("deepfakelab local CA (untrusted)")
    ca = (
        _certificate_builder(ca_name, ca_name, ca_key.public_key(), valid)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(digital_signature=False, key_cert_sign=True, crl_sign=True, **_NO_OTHER_USAGE),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    cert = (
        _certificate_builder(
            _kit_name("deepfakelab local signer (untrusted)"), ca_name, key.public_key(), valid
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(digital_signature=True, key_cert_sign=False, crl_sign=False, **_NO_OTHER_USAGE),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    _write_signer(directory, key, cert, ca)


#: The key usages neither of the kit's certificates has (each sets the other three itself).
_NO_OTHER_USAGE = dict(
    content_commitment=False,
    key_encipherment=False,
    data_encipherment=False,
    key_agreement=False,
    encipher_only=False,
    decipher_only=False,
)


def _kit_name(common_name: str) -> x509.Name:
    """A certificate name of the kit's: ``common_name`` in the kit's organisation."""
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "deepfakelab teaching kit"),
        ]
    )


def _certificate_builder(
    subject: x509.Name, issuer: x509.Name, public_key, valid: tuple[datetime.datetime, datetime.datetime]
) -> x509.CertificateBuilder:
    """What both of the kit's certificates share: names, key, a random serial number, ``valid``
    (not before, not after); each adds its own extensions."""
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(valid[0])
        .not_valid_after(valid[1])
    )


def _write_signer(directory: Path, key, cert: x509.Certificate, ca: x509.Certificate) -> None:
    """Key and chain in one file, written whole and renamed into place: two processes making it at
    once leave one matching pair, never one's key beside the other's certificate."""
    pem = (
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        + cert.public_bytes(serialization.Encoding.PEM)
        + ca.public_bytes(serialization.Encoding.PEM)
    )
    directory.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".signer-")  # created 0600: the key stays its owner's
    with os.fdopen(fd, "wb") as f:
        f.write(pem)
    os.replace(tmp, directory / LOCAL_SIGNER)


def _split_pem(pem: bytes) -> tuple[bytes, bytes]:
    """``(private key PEM, certificate chain PEM)`` from one file holding both."""
    end = b"-----END PRIVATE KEY-----"
    if end not in pem:
        raise ValueError("no PKCS#8 private key in it")
    cut = pem.index(end) + len(end)
    return pem[:cut] + b"\n", pem[cut:].lstrip()


def signing_identity() -> SigningIdentity:
    """The instructor's key and chain when configured, else the kit's local one (made on first use)."""
    key_path, certs_path = os.environ.get(KEY_ENV), os.environ.get(CERTS_ENV)
    source = "instructor"
    if bool(key_path) != bool(certs_path):
        raise ConfigError(
            f"set both {KEY_ENV} (PEM private key) and {CERTS_ENV} (PEM certificate chain), or neither"
        )
    try:
        if key_path:
            key_pem, chain_pem = Path(key_path).read_bytes(), Path(certs_path).read_bytes()
        else:
            source, local = "local", provenance_dir() / LOCAL_SIGNER
            key_path = certs_path = str(local)
            if not local.is_file():
                _make_local_identity(local.parent)
            key_pem, chain_pem = _split_pem(local.read_bytes())
        key = serialization.load_pem_private_key(key_pem, password=None)
    except (OSError, ValueError, TypeError) as exc:
        raise ConfigError(f"signing key {key_path} or chain {certs_path} cannot be read: {exc}") from None
    where = key_path if key_path == certs_path else f"{key_path} and {certs_path}"
    return SigningIdentity(key_pem, chain_pem, _alg_for(key), source, where)


def _signer(identity: SigningIdentity) -> c2pa.Signer:
    return c2pa.Signer.from_info(
        c2pa.C2paSignerInfo(identity.alg, identity.chain_pem, identity.key_pem, None)
    )


def check_signing(identity: SigningIdentity) -> SigningIdentity:
    """Sign a 1-pixel PNG in memory with ``identity``: a key that does not match its certificate, or
    a chain ``c2pa-rs`` refuses, is found here, before any work, not after a file is made."""
    tiny = io.BytesIO()
    Image.new("RGB", (1, 1)).save(tiny, "PNG")
    tiny.seek(0)
    try:
        with c2pa.Builder(manifest_definition("signing check")) as builder, _signer(identity) as signer:
            builder.sign(signer, "image/png", tiny, io.BytesIO())
    except c2pa.C2paError as exc:
        raise ConfigError(
            f"the {identity.source} signing key and certificate chain ({identity.where}) cannot sign "
            f"a C2PA manifest: {exc}"
        ) from None
    return identity


def sha256_file(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _mime(path: Path) -> str:
    mime = MIME_TYPES.get(path.suffix.lower())
    if mime is None:
        raise DataError(
            f"{path}: the kit signs {', '.join(MIME_TYPES)} files, not {path.suffix or 'this file'}"
        )
    return mime


def manifest_definition(title: str) -> dict:
    """The manifest the kit signs (without ingredients, which are added from their hashes)."""
    agent = {"name": "deepfakelab", "version": __version__}
    return {
        "claim_generator_info": [agent],
        "title": title,
        "assertions": [
            {
                "label": "c2pa.actions.v2",
                "data": {
                    "actions": [
                        {
                            "action": "c2pa.created",
                            "digitalSourceType": TRAINED_ALGORITHMIC_MEDIA,
                            "softwareAgent": agent,
                            "description": "synthetic media generated by deepfakelab, a teaching kit",
                        }
                    ]
                },
            }
        ],
    }


def sign_file(
    path: str | Path,
    ingredients: Sequence[str | Path] = (),
    identity: SigningIdentity | None = None,
    title: str | None = None,
) -> Path:
    """Embed a signed C2PA manifest in ``path`` (mp4, mov, m4v, png, jpg) in place; ``ingredients`` by
    hash only. ``title``: the name the manifest gives the file (default: its own name; a file being
    made under a temporary name passes the name it will have). A failure is one :class:`SigningError`
    and leaves ``path`` as it was."""
    path = Path(path)
    mime = _mime(path)
    identity = identity or signing_identity()
    tmp = None
    try:
        builder = c2pa.Builder(manifest_definition(title or path.name))
        try:
            for item in ingredients:
                item = Path(item)
                entry = {
                    "title": item.name,
                    "format": MIME_TYPES.get(item.suffix.lower(), "application/octet-stream"),
                    "relationship": "inputTo",
                    "metadata": {SHA256_KEY: sha256_file(item)},
                }
                builder.add_ingredient_from_stream(
                    json.dumps(entry), "application/octet-stream", io.BytesIO(b"")
                )
            signer = _signer(identity)
            try:
                fd, tmp = tempfile.mkstemp(suffix=path.suffix, dir=path.parent)
                os.close(fd)
                with open(path, "rb") as source, open(tmp, "w+b") as dest:
                    builder.sign(signer, mime, source, dest)
            finally:
                signer.close()
        finally:
            builder.close()
        os.chmod(tmp, path.stat().st_mode & 0o7777)  # mkstemp made it 0600: keep the file's own mode
        os.replace(tmp, path)
    except (c2pa.C2paError, OSError) as exc:
        raise SigningError(path, str(exc)) from None
    finally:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)
    return path


def read_manifest(path: str | Path) -> ManifestReport:
    """What ``c2pa-python``'s own reader says: a manifest that validates, one that does not, or none."""
    try:
        with c2pa.Reader(str(path)) as reader:
            state = reader.get_validation_state() or "Invalid"
            results = reader.get_validation_results() or {}
            active = reader.get_active_manifest() or {}
    except c2pa.C2paError:  # ManifestNotFound, or a format the reader does not know: nothing to check
        return ManifestReport("none")
    failures = tuple(item.get("code", "") for item in results.get("activeManifest", {}).get("failure", []))
    actions = [
        a
        for assertion in active.get("assertions", [])
        if assertion.get("label", "").startswith("c2pa.actions")
        for a in assertion.get("data", {}).get("actions", [])
    ]
    generator = ", ".join(
        f"{g.get('name')} {g.get('version', '')}".strip() for g in active.get("claim_generator_info", [])
    )
    return ManifestReport(
        state="valid" if state in ("Valid", "Trusted") else "invalid",
        trusted=state == "Trusted",
        signer=active.get("signature_info", {}).get("common_name"),
        generator=generator or None,
        digital_source_type=next(
            (a.get("digitalSourceType") for a in actions if a.get("digitalSourceType")), None
        ),
        failures=tuple(f for f in failures if f != "signingCredential.untrusted"),
    )
