# ruff: noqa
# Annotated target for checks/rules/python-web.yml (semgrep's test convention):
# `# ruleid: <id>` marks the next line as a required match, `# ok: <id>` as a required non-match.
import os
import urllib.request
from pathlib import Path

import flask
import httpx
import jinja2
import requests
from flask import Flask, request, send_file, send_from_directory
from jinja2 import Environment, FileSystemLoader, select_autoescape
from werkzeug.utils import secure_filename

app = Flask(__name__)
BASE = "/srv/files"


@app.route("/download")
def download():
    name = request.args.get("name")
    # ruleid: python.path-traversal.request-data
    return send_file(os.path.join(BASE, name))


@app.route("/read")
def read():
    # ruleid: python.path-traversal.request-data
    with open(request.args["path"]) as fh:
        return fh.read()


@app.route("/files/<path:filename>")
def by_route_param(filename):
    # ruleid: python.path-traversal.request-data
    return Path(BASE, filename).read_text()


@app.post("/upload")
def upload():
    upload = request.files["file"]
    # ok: python.path-traversal.request-data
    upload.save(os.path.join(BASE, secure_filename(upload.filename)))
    # ok: python.path-traversal.request-data
    return send_from_directory(BASE, request.args["name"])


@app.route("/safe")
def safe_read():
    name = os.path.basename(request.args.get("name", ""))
    # ok: python.path-traversal.request-data
    with open(os.path.join(BASE, name)) as fh:
        return fh.read()


@app.route("/resolve")
def resolve():
    full = os.path.join(BASE, "docs", request.values["page"])
    # ruleid: python.path-traversal.request-data
    os.remove(full)
    # ok: python.path-traversal.request-data
    return {"path": full}


def not_a_view(name):
    # ok: python.path-traversal.request-data
    return open(os.path.join(BASE, name)).read()


def django_view(request):
    # ruleid: python.path-traversal.request-data
    with open(os.path.join(BASE, request.GET["doc"]), "rb") as fh:
        return fh.read()


@app.route("/proxy")
def proxy():
    target = request.args["url"]
    # The fetched page goes back to the browser as HTML: reflected content too.
    # ruleid: python.ssrf.request-data-url, python.xss.request-data-response
    return requests.get(target, timeout=5).text


@app.route("/fetch")
def fetch():
    # ruleid: python.ssrf.request-data-url
    return urllib.request.urlopen(request.form["feed"]).read()


@app.route("/avatar/<user>")
def avatar(user):
    # ruleid: python.ssrf.request-data-url, python.xss.request-data-response
    return httpx.get(f"{user}/avatar.png").content


@app.route("/user/<user_id>")
def user_profile(user_id):
    # ok: python.ssrf.request-data-url
    return requests.get(f"https://api.example.com/users/{user_id}", timeout=5).json()


@app.route("/search")
def search():
    url = "https://api.example.com/search?q=%s" % request.args["q"]
    # ok: python.ssrf.request-data-url
    return requests.get(url, timeout=5).json()


def fixed_fetch(url):
    # ok: python.ssrf.request-data-url
    return requests.get(url, timeout=5)


def run_server():
    # ruleid: python.flask.debug-enabled, python.web.bind-all-interfaces
    app.run(host="0.0.0.0", debug=True)
    # ruleid: python.flask.debug-enabled
    app.config["DEBUG"] = True
    # ok: python.flask.debug-enabled
    app.run(debug=False)
    # ok: python.flask.debug-enabled
    app.run(debug=os.environ.get("FLASK_DEBUG") == "1")


def templates(loader):
    # ruleid: python.jinja2.autoescape-disabled
    env = Environment(loader=FileSystemLoader("templates"))
    # ruleid: python.jinja2.autoescape-disabled
    env2 = jinja2.Environment(loader=loader, autoescape=False)
    # ruleid: python.jinja2.autoescape-disabled
    tpl = jinja2.Template("<p>{{ name }}</p>")
    # ok: python.jinja2.autoescape-disabled
    env3 = Environment(loader=loader, autoescape=select_autoescape(["html", "xml"]))
    # ok: python.jinja2.autoescape-disabled
    env4 = jinja2.Environment(autoescape=True)
    return env, env2, tpl, env3, env4


@app.route("/exists")
def exists():
    name = request.cookies.get("file")
    base = Path("/srv/files")
    # ruleid: python.path-traversal.request-data
    found = (base / name).exists()
    # ruleid: python.path-traversal.request-data
    also = os.path.exists("/srv/files/" + name)
    # ok: python.path-traversal.request-data
    safe = os.path.exists(os.path.join("/srv/files", os.path.basename(name)))
    return {"found": found, "also": also, "safe": safe}
