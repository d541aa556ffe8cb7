# ruff: noqa
# Annotated target for checks/rules/python-secrets.yml (semgrep's test convention):
# `# ruleid: <id>` marks the next line as a required match, `# ok: <id>` as a required non-match.
# The values are low-entropy fakes; `pragma: allowlist secret` keeps detect-secrets quiet.
import os

# ruleid: python.secrets.hardcoded-credential
DB_PASSWORD = "hunter2hunter2"  # pragma: allowlist secret
# ruleid: python.secrets.hardcoded-credential
api_key = "abcd1234efgh5678"  # pragma: allowlist secret
# ruleid: python.secrets.hardcoded-credential
GITHUB_TOKEN: str = "not-so-s3cret-value"  # pragma: allowlist secret

# ruleid: python.secrets.hardcoded-credential
ADMIN_PASSWORD = "password123"  # pragma: allowlist secret

# ok: python.secrets.hardcoded-credential
PASSWORD = ""
# ok: python.secrets.hardcoded-credential
HEADER_API_KEY = "X-API-Key"
# ok: python.secrets.hardcoded-credential
K8S_SECRET = "db-password"
# ok: python.secrets.hardcoded-credential
SECRET_KEY = os.environ["DJANGO_SECRET_KEY"]
# ok: python.secrets.hardcoded-credential
API_KEY = "<your-api-key>"
# ok: python.secrets.hardcoded-credential
token = "changeme"
# ok: python.secrets.hardcoded-credential
ACCESS_TOKEN = "${ACCESS_TOKEN}"
# ok: python.secrets.hardcoded-credential
OPENAI_API_KEY = "OPENAI_API_KEY"
# ok: python.secrets.hardcoded-credential
password_field = "password"
# ok: python.secrets.hardcoded-credential
csrf_token = "csrf_token"
# ok: python.secrets.hardcoded-credential
token_type = "bearer"
# ok: python.secrets.hardcoded-credential
password_hint = "ask the admin"
# ok: python.secrets.hardcoded-credential
client_secret = None


class Client:
    def __init__(self, user: str) -> None:
        # ruleid: python.secrets.hardcoded-credential
        self.password = "Tr0ub4dor&3"  # pragma: allowlist secret
        # ok: python.secrets.hardcoded-credential
        self.token = os.environ.get("SERVICE_TOKEN", "")


def connect(db):
    # ruleid: python.secrets.hardcoded-credential
    db.connect(user="app", password="letmein-123")  # pragma: allowlist secret
    # ruleid: python.secrets.hardcoded-credential
    headers = {"api_key": "q1w2e3r4t5y6"}  # pragma: allowlist secret
    # ok: python.secrets.hardcoded-credential
    db.connect(user="app", password=os.environ["DB_PASSWORD"])
    # ok: python.secrets.hardcoded-credential
    db.connect(user="app", password=f"{os.environ['DB_PASSWORD']}")
    return headers


# ruleid: python.secrets.hardcoded-credential
def login(user, password="admin123"):  # pragma: allowlist secret
    # ruleid: python.secrets.hardcoded-credential
    if password == "s3cr3t!!":  # pragma: allowlist secret
        return True
    # ok: python.secrets.hardcoded-credential
    return password == ""
