# ruff: noqa
# Annotated target for checks/rules/python-jwt.yml (semgrep's test convention):
# `# ruleid: <id>` marks the next line as a required match, `# ok: <id>` as a required non-match.
import os

import jwt


def decode(token: str, key: str) -> None:
    # ruleid: python.jwt.unverified-decode
    jwt.decode(token, key, options={"verify_signature": False})
    # ok: python.jwt.unverified-decode
    jwt.decode(token, key, algorithms=["HS256"])
    # ruleid: python.jwt.none-algorithm
    jwt.decode(token, None, algorithms=["none"])
    # ok: python.jwt.none-algorithm
    jwt.decode(token, key, algorithms=["RS256"])


def encode(user: str, password: str) -> None:
    # ruleid: python.jwt.none-algorithm
    jwt.encode({"sub": user}, None, algorithm="none")
    # ruleid: python.jwt.hardcoded-secret
    jwt.encode({"sub": user}, "s3cr3t-signing-key", algorithm="HS256")
    # ok: python.jwt.hardcoded-secret
    jwt.encode({"sub": user}, os.environ["JWT_KEY"], algorithm="HS256")
    # ruleid: python.jwt.credentials-in-payload
    jwt.encode({"sub": user, "password": password}, os.environ["JWT_KEY"], algorithm="HS256")
    # ok: python.jwt.credentials-in-payload
    jwt.encode({"sub": user}, os.environ["JWT_KEY"], algorithm="HS256")
