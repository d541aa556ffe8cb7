# ruff: noqa: E501
"""The generated secrets/decoys set of issue 12 (seeded, reproducible; nothing committed).

Secrets follow the providers' documented formats; GitHub and npm tokens carry their real CRC32
checksum (base62, 6 characters, over the random part). Decoys are the look-alikes that should
not be reported: hashes and checksums, SRI values, data: URIs, documented example keys, sample
JWTs, placeholders, environment look-ups, public/publishable keys, test vectors, git SHAs, UUIDs,
lock-file integrity values. Every sample is one realistic repository file.
"""

from __future__ import annotations

import base64
import binascii
import json
import random
import string
from collections.abc import Callable
from pathlib import Path
from typing import Any

BASE62 = string.digits + string.ascii_uppercase + string.ascii_lowercase
SEED = 1212
PER_KIND = 4


def b62(n: int, width: int) -> str:
    out = ""
    while n:
        n, r = divmod(n, 62)
        out = BASE62[r] + out
    return out.rjust(width, "0")


def rand(rng: random.Random, n: int, alphabet: str = string.ascii_letters + string.digits) -> str:
    return "".join(rng.choice(alphabet) for _ in range(n))


def checksummed(rng: random.Random, prefix: str) -> str:
    body = rand(rng, 30)
    return f"{prefix}{body}{b62(binascii.crc32(body.encode()), 6)}"


HEX = "0123456789abcdef"
B64URL = string.ascii_letters + string.digits + "-_"


def _pem(rng: random.Random, label: str) -> str:
    blob = base64.b64encode(rng.randbytes(600)).decode()
    lines = [blob[i:i + 64] for i in range(0, len(blob), 64)]
    return "\n".join([f"-----BEGIN {label}-----", *lines, f"-----END {label}-----"])


# kind -> value generator
SECRETS: dict[str, Callable[[random.Random], str]] = {
    "github-classic-pat": lambda r: checksummed(r, "ghp_"),
    "github-oauth-token": lambda r: checksummed(r, "gho_"),
    "github-app-token": lambda r: checksummed(r, "ghs_"),
    "github-fine-grained-pat": lambda r: f"github_pat_11{rand(r, 20, string.ascii_uppercase + string.digits)}_{rand(r, 59)}",
    "npm-token": lambda r: checksummed(r, "npm_"),
    "aws-access-key-id": lambda r: "AKIA" + rand(r, 16, string.ascii_uppercase + "234567"),
    "aws-secret-access-key": lambda r: rand(r, 40, string.ascii_letters + string.digits + "+/"),
    "slack-bot-token": lambda r: f"xoxb-{rand(r, 12, string.digits)}-{rand(r, 13, string.digits)}-{rand(r, 24)}",
    "slack-webhook": lambda r: f"https://hooks.slack.com/services/T{rand(r, 10, string.ascii_uppercase + string.digits)}/B{rand(r, 10, string.ascii_uppercase + string.digits)}/{rand(r, 24)}",
    "stripe-secret-key": lambda r: "sk_live_" + rand(r, 24),
    "stripe-restricted-key": lambda r: "rk_live_" + rand(r, 24),
    "google-api-key": lambda r: "AIza" + rand(r, 35, B64URL),
    "anthropic-api-key": lambda r: "sk-ant-api03-" + rand(r, 93, B64URL) + "AA",
    "openai-api-key": lambda r: "sk-proj-" + rand(r, 74, B64URL) + "T3BlbkFJ" + rand(r, 74, B64URL),
    "huggingface-token": lambda r: "hf_" + rand(r, 34, string.ascii_letters),
    "gitlab-pat": lambda r: "glpat-" + rand(r, 20, B64URL),
    "sendgrid-api-key": lambda r: f"SG.{rand(r, 22, B64URL)}.{rand(r, 43, B64URL)}",
    "twilio-api-key": lambda r: "SK" + rand(r, 32, HEX),
    "postgres-url": lambda r: f"postgresql://app_{rand(r, 4, string.ascii_lowercase)}:{rand(r, 18)}@db-{rand(r, 5, string.ascii_lowercase)}.internal:5432/orders",
    "mysql-url": lambda r: f"mysql://svc:{rand(r, 16)}@10.2.{r.randint(1, 254)}.{r.randint(1, 254)}:3306/shop",
    "mongodb-url": lambda r: f"mongodb+srv://admin:{rand(r, 20)}@cluster0.{rand(r, 5, string.ascii_lowercase)}.mongodb.net/prod",
    "redis-url": lambda r: f"redis://:{rand(r, 24)}@cache.{rand(r, 6, string.ascii_lowercase)}.example.net:6379/0",
    "url-credentials": lambda r: f"https://deploy:{rand(r, 16)}@artifacts.{rand(r, 6, string.ascii_lowercase)}.io/repo/simple",
    "rsa-private-key": lambda r: _pem(r, "RSA PRIVATE KEY"),
    "openssh-private-key": lambda r: _pem(r, "OPENSSH PRIVATE KEY"),
    "generic-password": lambda r: rand(r, 6, string.ascii_letters) + r.choice("!#%&*") + rand(r, 8),
    "generic-secret": lambda r: rand(r, 32, string.ascii_letters + string.digits),
    "django-secret-key": lambda r: "django-insecure-" + rand(r, 50, string.ascii_lowercase + string.digits + "!@#%^&*(-_=+)"),
}

# kind -> (file name, template); {v} is the value
SECRET_FILES: dict[str, list[tuple[str, str]]] = {
    "default": [
        ("config/settings.py", 'import os\n\nDEBUG = False\nTIMEOUT = 30\nAPI_TOKEN = "{v}"\nREGION = "eu-west-1"\n'),
        (".env", "APP_ENV=production\nLOG_LEVEL=info\nSERVICE_TOKEN={v}\nPORT=8080\n"),
        ("deploy/values.yaml", "replicaCount: 2\nimage:\n  tag: 1.4.2\nauth:\n  token: {v}\n"),
        ("scripts/publish.js", "const axios = require('axios');\n\nconst client = axios.create({{\n  headers: {{ Authorization: 'Bearer {v}' }},\n}});\n"),
    ],
    "aws-access-key-id": [("aws/credentials", "[default]\nregion = us-east-1\naws_access_key_id = {v}\n")],
    "aws-secret-access-key": [("aws/credentials", "[default]\nregion = us-east-1\naws_secret_access_key = {v}\n"),
                              ("infra/main.tf", 'provider "aws" {{\n  region     = "us-east-1"\n  secret_key = "{v}"\n}}\n')],
    "npm-token": [(".npmrc", "registry=https://registry.npmjs.org/\n//registry.npmjs.org/:_authToken={v}\n")],
    "postgres-url": [("app/db.py", 'from sqlalchemy import create_engine\n\nengine = create_engine("{v}")\n'),
                     ("docker-compose.yml", "services:\n  web:\n    environment:\n      DATABASE_URL: {v}\n")],
    "rsa-private-key": [("deploy/key.pem", "{v}\n"), ("tests/keys.py", 'SIGNING_KEY = """{v}"""\n')],
    "openssh-private-key": [("ci/id_ed25519", "{v}\n")],
    "generic-password": [("app/config.py", 'DB_HOST = "db.internal"\nDB_USER = "orders"\nDB_PASSWORD = "{v}"\n'),
                         ("config/app.yaml", "database:\n  host: db.internal\n  password: {v}\n"),
                         ("settings.ini", "[smtp]\nhost = mail.internal\nuser = alerts\npassword = {v}\n"),
                         ("src/mail.py", 'def connect(server):\n    server.login("alerts", "{v}")\n')],
    "generic-secret": [("app/auth.py", 'JWT_SECRET = "{v}"\nALGORITHM = "HS256"\n'),
                       ("config/prod.json", '{{\n  "name": "billing",\n  "client_secret": "{v}"\n}}\n')],
    "django-secret-key": [("mysite/settings.py", "from pathlib import Path\n\nBASE_DIR = Path(__file__).resolve().parent\nSECRET_KEY = '{v}'\nDEBUG = False\n")],
}

DECOYS: dict[str, list[tuple[str, str]]] = {
    "sha256-checksum": [("scripts/fetch_tool.py", 'TOOL_URL = "https://example.org/tool-1.2.tar.gz"\nTOOL_SHA256 = "{hex64}"\n'),
                        ("requirements.txt", "idna==3.7 \\\n    --hash=sha256:{hex64}\n")],
    "md5-etag": [("tests/test_cache.py", 'def test_etag(client):\n    etag = "{hex32}"\n    assert client.get("/", headers={{"If-None-Match": etag}}).status_code == 304\n')],
    "sri-integrity": [("templates/base.html", '<script src="https://cdn.example.org/lib.min.js" integrity="sha384-{b64_48}" crossorigin="anonymous"></script>\n')],
    "data-uri": [("static/app.css", ".logo {{\n  background-image: url(data:image/png;base64,{b64_120});\n}}\n")],
    "documented-example-key": [("docs/aws.md", "Set your keys:\n\n    aws_access_key_id = AKIAIOSFODNN7EXAMPLE\n    aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n")],
    "sample-jwt": [("tests/test_jwt.py", 'TOKEN = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"\n\n\ndef test_decode():\n    assert TOKEN.count(".") == 2\n')],
    "placeholder-xxx": [("config/example.py", 'API_KEY = "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"\n'),
                        ("README.md", "Export your token:\n\n    export GITHUB_TOKEN=ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n")],
    "placeholder-angle": [("docs/setup.md", "```yaml\nauth:\n  token: <your-api-token>\n  password: <password>\n```\n")],
    "placeholder-env": [("deploy/compose.yml", "services:\n  db:\n    environment:\n      POSTGRES_PASSWORD: ${{POSTGRES_PASSWORD}}\n      DATABASE_URL: postgresql://app:${{DB_PASS}}@db:5432/app\n")],
    "placeholder-changeme": [("config/dev.yaml", "admin:\n  user: admin\n  password: changeme\n"),
                             ("app/defaults.py", 'DEFAULT_PASSWORD = "your-password-here"\n')],
    "env-lookup": [("app/settings.py", 'import os\n\nPASSWORD = os.environ["DB_PASSWORD"]\nSECRET_KEY = os.getenv("SECRET_KEY", "")\n')],
    "publishable-key": [("web/checkout.js", "const stripe = Stripe('pk_live_{alnum24}');\n")],
    "public-key": [("keys/signing.pub.pem", "{pubkey}\n")],
    "test-vector": [("tests/test_vectors.py", '# RFC 4231 test case 2\nKEY = bytes.fromhex("4a656665")\nDATA = b"what do ya want for nothing?"\nEXPECTED = "{hex64}"\n')],
    "git-sha": [("tools/pins.py", 'UPSTREAM_COMMIT = "{hex40}"\nBASE_REVISION = "{hex40b}"\n')],
    "uuid": [("tests/fixtures.py", 'TENANT_ID = "{uuid}"\nREQUEST_ID = "{uuid2}"\n')],
    "lock-file": [("package-lock.json", '{{\n  "packages": {{\n    "node_modules/left-pad": {{\n      "version": "1.3.0",\n      "integrity": "sha512-{b64_88}"\n    }}\n  }}\n}}\n')],
    "example-connection-string": [("docs/database.md", "Point `DATABASE_URL` at your server, e.g.\n`postgresql://USER:PASSWORD@HOST:5432/DBNAME`.\n")],
}


def _decoy_fields(rng: random.Random) -> dict[str, str]:
    import uuid

    b64 = lambda n: base64.b64encode(rng.randbytes(n)).decode()  # noqa: E731
    return {
        "hex64": rand(rng, 64, HEX), "hex32": rand(rng, 32, HEX), "hex40": rand(rng, 40, HEX),
        "hex40b": rand(rng, 40, HEX), "b64_48": b64(36), "b64_120": b64(90), "b64_88": b64(64),
        "alnum24": rand(rng, 24), "pubkey": _pem(rng, "PUBLIC KEY"),
        "uuid": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        "uuid2": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
    }  # fmt: skip


def samples(seed: int = SEED) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    out: list[dict[str, Any]] = []
    for kind, gen in SECRETS.items():
        templates = SECRET_FILES.get(kind, SECRET_FILES["default"])
        for i in range(PER_KIND):
            name, template = templates[i % len(templates)]
            value = gen(rng)
            text = template.format(v=value)
            first = value.splitlines()[0]
            line = next(n for n, t in enumerate(text.splitlines(), 1) if first in t)
            out.append({"path": f"s-{kind}-{i}/{name}", "kind": kind, "secret": True, "line": line,
                        "value": value, "text": text})
    for kind, templates in DECOYS.items():
        for i in range(PER_KIND):
            name, template = templates[i % len(templates)]
            out.append({"path": f"d-{kind}-{i}/{name}", "kind": kind, "secret": False, "line": None,
                        "value": None, "text": template.format(**_decoy_fields(rng))})
    return out


def write_set(dest: Path, seed: int = SEED) -> dict[str, Any]:
    dest.mkdir(parents=True, exist_ok=True)
    labels = {}
    for s in samples(seed):
        path = dest / s["path"]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(s.pop("text"))
        labels[s.pop("path")] = s
    (dest / "labels.json").write_text(json.dumps({"source": "generated", "seed": seed, "kind": "secrets",
                                                  "split": "held-out", "labels": labels}, indent=1))
    return {"name": "secrets", "files": len(labels)}
