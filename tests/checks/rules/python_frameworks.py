# ruff: noqa
# Annotated target for checks/rules/python-frameworks.yml (semgrep's test convention):
# `# ruleid: <id>` marks the next line as a required match, `# ok: <id>` as a required non-match.
import logging
import multiprocessing.connection
import os
import socket
import stat

import docker
import flask
import pty
from django import template
from django.contrib.auth.password_validation import validate_password
from django.shortcuts import render
from django.utils.html import format_html, html_safe
from django.utils.safestring import SafeString
from django.views.decorators.csrf import csrf_exempt
from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from ruamel.yaml import YAML

register = template.Library()
log = logging.getLogger(__name__)


# ruleid: python.django.escaping-bypass
class TrustedMarkup(SafeString):
    pass


# ruleid: python.django.escaping-bypass
@register.filter(is_safe=True)
def shout(value):
    return value.upper()


# ok: python.django.escaping-bypass
@register.filter
def whisper(value):
    return value.lower()


def django_views(request, user, name):
    # ruleid: python.django.escaping-bypass
    format_html("<b>%s</b>" % name)
    # ok: python.django.escaping-bypass
    format_html("<b>{}</b>", name)
    # ruleid: python.django.template-context-locals
    return render(request, "page.html", locals())


def django_context(request):
    # ok: python.django.template-context-locals
    return render(request, "page.html", {"name": "x"})


# ruleid: python.web.csrf-disabled
@csrf_exempt
def webhook(request):
    return None


# ok: python.web.csrf-disabled
def normal_view(request):
    return None


def passwords(user, password):
    # ruleid: python.django.unvalidated-password
    user.set_password(password)


def passwords_checked(user, password):
    validate_password(password, user)
    # ok: python.django.unvalidated-password
    user.set_password(password)


def post_after_valid(request, form):
    if form.is_valid():
        # ruleid: python.django.request-post-after-is-valid
        name = request.POST["name"]
        # ok: python.django.request-post-after-is-valid
        name = form.cleaned_data["name"]


# ruleid: python.django.drf-missing-throttle
REST_FRAMEWORK = {"DEFAULT_AUTHENTICATION_CLASSES": ["rest_framework.authentication.SessionAuthentication"]}
# ok: python.django.drf-missing-throttle
REST_FRAMEWORK = {"DEFAULT_THROTTLE_CLASSES": ["rest_framework.throttling.UserRateThrottle"], "DEFAULT_THROTTLE_RATES": {"user": "100/hour"}}

app = flask.Flask(__name__)
# ruleid: python.web.csrf-disabled
app.config["WTF_CSRF_ENABLED"] = False
# ok: python.web.csrf-disabled
app.config["WTF_CSRF_ENABLED"] = True


@app.route("/report")
def report():
    # ruleid: python.flask.unescaped-template-extension
    return flask.render_template("report.txt", name=flask.request.args["n"])


@app.route("/page")
def page():
    # ok: python.flask.unescaped-template-extension
    return flask.render_template("page.html", name=flask.request.args["n"])


def templates(title):
    template_src = "<h1>%s</h1>" % title
    # ruleid: python.flask.formatted-template-string
    flask.render_template_string(template_src)
    # ok: python.flask.formatted-template-string
    flask.render_template_string("<h1>{{ title }}</h1>", title=title)


def network(sock: socket.socket):
    # ruleid: python.web.bind-all-interfaces
    sock.bind(("0.0.0.0", 8080))
    # ok: python.web.bind-all-interfaces
    sock.bind(("127.0.0.1", 8080))
    # ruleid: python.web.bind-all-interfaces
    app.run(host="0.0.0.0")
    # ok: python.web.bind-all-interfaces
    app.run(host="127.0.0.1")


api = FastAPI()
# ruleid: python.web.cors-wildcard
api.add_middleware(CORSMiddleware, allow_origins=["*"])
# ok: python.web.cors-wildcard
api.add_middleware(CORSMiddleware, allow_origins=["https://example.com"])


def reset_link(token):
    # ruleid: python.web.host-header-url
    return "https://" + flask.request.host + "/reset/" + token


def reset_link_configured(token):
    # ok: python.web.host-header-url
    return "https://example.com/reset/" + token


def call(client, msg):
    # ruleid: python.twilio.twiml-injection
    client.calls.create(to="+1", from_="+2", twiml="<Response><Say>" + msg + "</Say></Response>")
    # ok: python.twilio.twiml-injection
    client.calls.create(to="+1", from_="+2", twiml="<Response><Say>Hello</Say></Response>")


def files(path, secret_key, api_key, user):
    # ruleid: python.file-permissions.world-writable
    os.chmod(path, 0o777)
    # ok: python.file-permissions.world-writable
    os.chmod(path, 0o644)
    # ruleid: python.file-permissions.world-writable
    os.chmod(path, os.stat(path).st_mode | stat.S_IXOTH)
    # ruleid: python.logging.credential-leak
    log.info("calling with key %s", api_key)
    # ok: python.logging.credential-leak
    log.info("calling for user %s", user)


def shell(s: socket.socket):
    # ruleid: python.shell.reverse-shell
    os.dup2(s.fileno(), 0)
    # ok: python.shell.reverse-shell
    os.dup2(3, 0)


def loaders(address):
    # ruleid: python.deserialization.ruamel-unsafe
    yaml = YAML(typ="unsafe")
    # ok: python.deserialization.ruamel-unsafe
    yaml2 = YAML(typ="safe")
    conn = multiprocessing.connection.Client(address)
    # ruleid: python.deserialization.multiprocessing-recv
    msg = conn.recv()
    # ok: python.deserialization.multiprocessing-recv
    data = conn.recv_bytes()


def containers(image):
    client = docker.from_env()
    # ruleid: python.docker.dynamic-container-run
    client.containers.run(image, "echo hello")
    # ok: python.docker.dynamic-container-run
    client.containers.run("alpine:3.20", "echo hello")


def queries(Entry, cond):
    # ruleid: python.django.queryset-extra
    Entry.objects.filter(active=True).extra(where=[cond])
    # ok: python.django.queryset-extra
    Entry.objects.filter(active=True)


# ruleid: python.django.escaping-bypass
class Card:
    def __html__(self):
        return "<div></div>"
