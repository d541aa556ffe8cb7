# ruff: noqa
# Annotated target for checks/rules/python-crypto.yml (semgrep's test convention):
# `# ruleid: <id>` marks the next line as a required match, `# ok: <id>` as a required non-match.
import hashlib
import hmac
import ssl
import tempfile

import httpx
import requests
import urllib3
from Crypto.Cipher import AES, ARC4, DES
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes


def hashing(data: bytes, key: bytes) -> None:
    # ruleid: python.crypto.weak-hash
    hashlib.md5(data).hexdigest()
    # ruleid: python.crypto.weak-hash
    hashlib.sha1(data)
    # ruleid: python.crypto.weak-hash
    hashlib.new("md5", data)
    # ruleid: python.crypto.weak-hash
    hmac.new(key, data, hashlib.sha1)
    # ruleid: python.crypto.weak-hash
    hashes.Hash(hashes.MD5())
    # ok: python.crypto.weak-hash
    hashlib.md5(data, usedforsecurity=False)
    # ok: python.crypto.weak-hash
    hashlib.sha256(data)
    # ok: python.crypto.weak-hash
    hashlib.new("sha256", data)
    # ok: python.crypto.weak-hash
    hmac.new(key, data, hashlib.sha256)


def ciphers(key: bytes, iv: bytes) -> None:
    # ruleid: python.crypto.weak-cipher
    DES.new(key, DES.MODE_CBC, iv)
    # ruleid: python.crypto.weak-cipher
    ARC4.new(key)
    # ruleid: python.crypto.weak-cipher
    Cipher(algorithms.TripleDES(key), modes.CBC(iv))
    # ok: python.crypto.weak-cipher
    Cipher(algorithms.AES(key), modes.GCM(iv))
    # ok: python.crypto.weak-cipher
    AES.new(key, AES.MODE_GCM)


def modes_of_operation(key: bytes, iv: bytes) -> None:
    # ruleid: python.crypto.ecb-mode
    Cipher(algorithms.AES(key), modes.ECB())
    # ruleid: python.crypto.ecb-mode
    AES.new(key, AES.MODE_ECB)
    # ok: python.crypto.ecb-mode
    AES.new(key, AES.MODE_GCM, nonce=iv)
    # ok: python.crypto.ecb-mode
    # ruleid: python.crypto.unauthenticated-mode
    Cipher(algorithms.AES(key), modes.CTR(iv))


def tls_clients(url: str, session: requests.Session) -> None:
    # ruleid: python.tls.verify-disabled
    requests.get(url, verify=False)
    # ruleid: python.tls.verify-disabled
    session.post(url, json={}, verify=False)
    # ruleid: python.tls.verify-disabled
    client = httpx.Client(verify=False)
    # ruleid: python.tls.verify-disabled
    session.verify = False
    # ok: python.tls.verify-disabled
    requests.get(url, timeout=10)
    # ok: python.tls.verify-disabled
    requests.get(url, verify="/etc/ssl/corp-ca.pem")
    # ok: python.tls.verify-disabled
    httpx.Client(verify=True)


def tls_contexts(host: str) -> None:
    # ruleid: python.tls.unverified-context
    ctx = ssl._create_unverified_context()
    strict = ssl.create_default_context()
    # ruleid: python.tls.unverified-context
    strict.check_hostname = False
    # ruleid: python.tls.unverified-context
    strict.verify_mode = ssl.CERT_NONE
    # ruleid: python.tls.unverified-context
    urllib3.PoolManager(cert_reqs=ssl.CERT_NONE)
    # ok: python.tls.unverified-context
    strict.verify_mode = ssl.CERT_REQUIRED
    # ok: python.tls.unverified-context
    ok_ctx = ssl.create_default_context(cafile="/etc/ssl/corp-ca.pem")


def temp_files() -> None:
    # ruleid: python.tempfile.mktemp
    name = tempfile.mktemp(suffix=".txt")
    # ok: python.tempfile.mktemp
    fd, other = tempfile.mkstemp(suffix=".txt")
    # ok: python.tempfile.mktemp
    with tempfile.NamedTemporaryFile() as fh:
        fh.write(b"x")


def keys_and_modes(key: bytes, iv: bytes) -> None:
    import hashids
    from Crypto.Hash import MD2, SHA256
    from Crypto.PublicKey import RSA
    from cryptography.hazmat.primitives.asymmetric import ec, rsa

    # ruleid: python.crypto.insufficient-key-size
    rsa.generate_private_key(public_exponent=65537, key_size=1024)
    # ok: python.crypto.insufficient-key-size
    rsa.generate_private_key(public_exponent=65537, key_size=3072)
    # ruleid: python.crypto.insufficient-key-size
    RSA.generate(1024)
    # ruleid: python.crypto.insufficient-key-size
    ec.generate_private_key(ec.SECP192R1())
    # ok: python.crypto.insufficient-key-size
    ec.generate_private_key(ec.SECP256R1())
    # ruleid: python.crypto.unauthenticated-mode
    Cipher(algorithms.AES(key), modes.CBC(iv))
    # ok: python.crypto.unauthenticated-mode
    Cipher(algorithms.AES(key), modes.GCM(iv))
    # ruleid: python.crypto.weak-hash-pycryptodome
    MD2.new()
    # ok: python.crypto.weak-hash-pycryptodome
    SHA256.new()
    # ruleid: python.crypto.empty-key
    AES.new("", AES.MODE_GCM)
    # ok: python.crypto.empty-key
    AES.new(key, AES.MODE_GCM)
    # ruleid: python.crypto.hashids-with-secret-key
    hashids.Hashids(salt=app.config["SECRET_KEY"])
    # ok: python.crypto.hashids-with-secret-key
    hashids.Hashids(salt="public-salt")


def hash_after_match(kind: str, data: bytes) -> None:
    match kind:
        case "a":
            data = data + b"a"
        case _:
            data = data + b"b"
    # ruleid: python.crypto.weak-hash
    hashlib.new("MD5", data)
    # ok: python.crypto.weak-hash
    hashlib.new("sha256", data)
