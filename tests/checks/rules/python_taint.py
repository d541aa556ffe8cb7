# ruff: noqa
# Annotated targets for checks/rules/python-taint.yml (semgrep's `# ruleid:` / `# ok:` convention).
# Never imported or run: semgrep only parses it.
import html
import logging
import os
import pickle
import random
import re
import secrets
import shlex
import subprocess
import xml.dom.minidom

import flask
import ldap3
import lxml.etree
import yaml
from django.http import HttpResponse, HttpResponseRedirect
from flask import Flask, make_response, redirect, render_template, render_template_string, request, session, url_for
from ldap3.utils.conv import escape_filter_chars
from markupsafe import Markup, escape

app = Flask(__name__)
log = logging.getLogger(__name__)


@app.route("/hello")
def hello():
    name = request.args.get("name", "")
    body = f"<p>Hello {name}</p>"
    # ruleid: python.xss.request-data-response
    return body


@app.route("/hello-escaped")
def hello_escaped():
    name = request.args.get("name", "")
    body = f"<p>Hello {escape(name)}</p>"
    # ok: python.xss.request-data-response
    return body


@app.route("/hello-accumulated", methods=["POST"])
def hello_accumulated():
    out = ""
    value = request.form.get("v")
    out += f"value: {value}"
    # ruleid: python.xss.request-data-response
    return out


@app.route("/hello-template")
def hello_template():
    name = request.args.get("name", "")
    # ok: python.xss.request-data-response
    return render_template("hello.html", name=name)


@app.route("/markup")
def markup():
    # ruleid: python.xss.request-data-response
    content = Markup(request.args["c"])
    # ok: python.xss.request-data-response
    safe = Markup("<b>%s</b>") % html.escape(request.args["c"])
    # ruleid: python.xss.request-data-response
    other = make_response("<i>" + request.args["d"] + "</i>")
    return "ok"


def django_view(request):
    # ruleid: python.xss.request-data-response
    return HttpResponse("Hi " + request.GET["name"])


@app.route("/ssti")
def ssti():
    tpl = "<h1>" + request.args.get("t", "") + "</h1>"
    # ruleid: python.code-injection.template-string
    page = render_template_string(tpl)
    # ok: python.code-injection.template-string
    fixed = render_template_string("<h1>{{ t }}</h1>", t=request.args.get("t", ""))
    return "ok"


@app.route("/go")
def go():
    target = request.args.get("next")
    if target == "home":
        # ok: python.open-redirect.request-data
        return redirect(url_for("index"))
    if target == "profile":
        # ok: python.open-redirect.request-data
        return redirect("/profile/" + request.args["user"])
    # ruleid: python.open-redirect.request-data
    return redirect(target)


def django_go(request):
    # ruleid: python.open-redirect.request-data
    return HttpResponseRedirect(request.GET.get("next"))


@app.route("/lang")
def lang():
    response = make_response("ok")
    # ruleid: python.header-injection.request-data
    response.headers["Content-Language"] = request.args["lang"]
    # ok: python.header-injection.request-data
    response.headers["X-Page"] = str(int(request.args["page"]))
    return response


@app.route("/login", methods=["POST"])
def login():
    user = request.form["user"]
    # ruleid: python.log-injection.request-data
    log.info("login attempt for " + user)
    # ok: python.log-injection.request-data
    log.info("login attempt for %s", repr(user))
    return "ok"


@app.route("/ping", methods=["POST"])
def ping():
    host = request.form["host"]
    argv = ["sh", "-c"]
    argv.append(f"ping -c 1 {host}")
    # ruleid: python.command-injection.request-data
    subprocess.run(argv, capture_output=True)
    # ok: python.command-injection.request-data
    subprocess.run(["ping", "-c", "1", shlex.quote(host)], capture_output=True)
    # ok: python.command-injection.request-data
    subprocess.run(["uptime"], capture_output=True)
    return "ok"


@app.route("/calc", methods=["POST"])
def calc():
    expr = request.form["expr"]
    # ruleid: python.code-injection.request-data, python.code-injection.eval
    result = eval(expr)
    # ruleid: python.code-injection.eval
    # ok: python.code-injection.request-data
    count = eval(str(int(request.form["n"])) + " + 1")
    return "ok"


@app.route("/user")
def user(db):
    uid = request.args["id"]
    query = "SELECT * FROM users WHERE id = '" + uid + "'"
    # ruleid: python.sql-injection.request-data, python.sql-injection.formatted-query
    db.execute(query)
    # ok: python.sql-injection.request-data
    db.execute("SELECT * FROM users WHERE id = %s", (uid,))
    return "ok"


@app.route("/people", methods=["POST"])
def people(conn):
    uid = request.form.get("uid")
    search_filter = f"(&(objectclass=person)(uid={uid}))"
    # ruleid: python.ldap-injection.request-data
    conn.search("ou=users", search_filter, attributes=ldap3.ALL_ATTRIBUTES)
    # ok: python.ldap-injection.request-data
    conn.search("ou=users", f"(uid={escape_filter_chars(uid)})")
    return "ok"


@app.route("/employee")
def employee(root):
    emp = request.cookies.get("emp")
    query = f"/Employees/Employee[@id='{emp}']"
    # ruleid: python.xpath-injection.request-data
    nodes = root.xpath(query)
    # ruleid: python.xpath-injection.request-data
    finder = lxml.etree.XPath(query)
    # ok: python.xpath-injection.request-data
    safe_nodes = root.xpath("/Employees/Employee[@id=$emp]", emp=emp)
    return "ok"


@app.route("/remember", methods=["POST"])
def remember():
    # ruleid: python.trust-boundary.session-request-data
    session["userid"] = request.form["userid"]
    # ok: python.trust-boundary.session-request-data
    session["theme"] = "dark"
    return "ok"


def cookies(resp, response):
    # ruleid: python.cookie.insecure-flags
    resp.set_cookie("sid", "abc", secure=False, httponly=True)
    # ruleid: python.cookie.insecure-flags
    response.set_cookie("theme", "dark")
    # ok: python.cookie.insecure-flags
    resp.set_cookie("sid", "abc", secure=True, httponly=True, samesite="Lax")


def tokens(mysession, resp):
    value = str(random.random())[2:]
    # ruleid: python.random.insecure-token
    mysession["rememberMe"] = value
    # ruleid: python.random.insecure-token
    reset_token = "%06d" % random.randint(0, 999999)
    # ok: python.random.insecure-token
    api_token = secrets.token_urlsafe(32)
    # ok: python.random.insecure-token
    delay = random.uniform(0.1, 0.5)
    return reset_token, api_token, delay


@app.route("/grep")
def grep():
    # ruleid: python.redos.request-data-pattern
    rx = re.compile(request.args["q"])
    # ok: python.redos.request-data-pattern
    literal = re.compile(re.escape(request.args["q"]))
    return "ok"


def validators(text):
    # ruleid: python.redos.nested-quantifier
    evil = re.match("^(a+)+$", text)
    # ruleid: python.redos.nested-quantifier
    email = re.compile(r"^([a-zA-Z0-9_.-]+)*@example\.com$")
    # ok: python.redos.nested-quantifier
    fine = re.compile(r"^[a-z]+(-[a-z]+)?$")
    nested = r"^(\w+\s?)*$"
    # ruleid: python.redos.nested-quantifier
    later = re.compile(nested)
    flat = r"^[0-9]+$"
    # ok: python.redos.nested-quantifier
    later_fine = re.compile(flat)
    return evil, email, fine, later, later_fine


@app.route("/restore", methods=["POST"])
def restore():
    # ruleid: python.deserialization.untrusted-data, python.deserialization.pickle
    state = pickle.loads(request.get_data())
    # ruleid: python.deserialization.untrusted-data, python.deserialization.yaml-load
    conf = yaml.load(request.form["conf"], Loader=yaml.Loader)
    # ok: python.deserialization.untrusted-data
    safe = yaml.safe_load(request.form["conf"])
    return "ok"


def receive(sock):
    blob = sock.recv(4096)
    # ruleid: python.deserialization.untrusted-data, python.deserialization.pickle
    return pickle.loads(blob)


@app.route("/xml", methods=["POST"])
def xml_upload():
    # ruleid: python.xxe.request-data, python.xxe.stdlib-parser
    doc = xml.dom.minidom.parseString(request.form["doc"])
    # ok: python.xxe.request-data
    fixed = xml.dom.minidom.parseString("<a/>")
    return "ok"


def wsgi_app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/html")])
    # ruleid: python.command-injection.request-data, python.command-injection.os-system
    os.system("echo " + environ["QUERY_STRING"])
    return [b"ok"]


@app.post("/fastapi-like")
def fastapi_like(name: str):
    # ruleid: python.code-injection.request-data, python.code-injection.eval
    return eval(name)


def flask_module_style():
    # ruleid: python.open-redirect.request-data
    return flask.redirect(flask.request.args["to"])


@app.route("/stored", methods=["POST"])
def stored():
    values = {}
    values["b"] = request.form.get("b")
    bar = values["b"]
    # ruleid: python.xss.request-data-response
    return f"<p>{bar}</p>"


def version_patterns(text):
    # ok: python.redos.nested-quantifier
    local = re.compile(r"[a-z0-9]+(?:[._-][a-z0-9]+)*", re.IGNORECASE)
    # ok: python.redos.nested-quantifier
    name = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
    return local, name


@app.route("/configparser", methods=["POST"])
def configparser_value():
    import configparser

    conf = configparser.ConfigParser()
    conf.add_section("s")
    conf.set("s", "name", request.form.get("name", ""))
    value = conf.get("s", "name")
    # ruleid: python.xss.request-data-response
    return f"<p>{value}</p>"


@app.route("/session-key", methods=["POST"])
def session_key():
    key = request.form.get("key", "")
    # ruleid: python.trust-boundary.session-request-data
    session[key] = "12345"
    # ok: python.trust-boundary.session-request-data
    session["fixed"] = "12345"
    return "saved"


def django_bad_request(request):
    from django.http import HttpResponseBadRequest

    # ruleid: python.xss.request-data-response
    return HttpResponseBadRequest("Received {}".format(request.POST.get("message")))


def django_link(request):
    text = request.GET.get("text", "")
    context = {}
    # ruleid: python.xss.request-data-html-string
    context["html"] = '<a href="https://example.com/%s">link</a>' % text
    # ok: python.xss.request-data-html-string
    context["html"] = '<a href="https://example.com/%s">link</a>' % html.escape(text)
    # ok: python.xss.request-data-html-string
    context["plain"] = "text: %s" % text
    return context


def lambda_handler(event, context):
    import boto3

    table = boto3.resource("dynamodb").Table("t")
    # ruleid: python.nosql-injection.dynamodb-filter
    table.scan(ScanFilter=event["filter"])
    # ok: python.nosql-injection.dynamodb-filter
    table.scan(ScanFilter={"kind": {"AttributeValueList": ["a"], "ComparisonOperator": "EQ"}})
    # ruleid: python.command-injection.request-data
    subprocess.run(event["cmd"])
    return {"ok": True}


def django_mail(request):
    from django.core.mail import EmailMessage, send_mail

    body = request.POST.get("body", "")
    # ruleid: python.xss.request-data-html-email
    send_mail("subject", "text", "from@example.com", ["to@example.com"], html_message=body)
    # ok: python.xss.request-data-html-email
    send_mail("subject", "text", "from@example.com", ["to@example.com"], html_message=html.escape(body))
    return None


def django_numbers(request):
    from myapp.models import Whatzit

    # ruleid: python.nan-injection.request-data
    limit = float(request.GET.get("limit", "1"))
    # ok: python.nan-injection.request-data
    count = int(request.GET.get("count", "1"))
    # ruleid: python.mass-assignment.request-data
    Whatzit.objects.create(**request.POST)
    # ok: python.mass-assignment.request-data
    Whatzit.objects.create(name=request.POST.get("name", ""))
    return limit, count


def django_export(request):
    import csv

    writer = csv.writer(open("out.csv", "w"))
    # ruleid: python.csv-injection.request-data
    writer.writerow([request.GET.get("name", "")])
    # ok: python.csv-injection.request-data
    writer.writerow(["name"])


def django_dynamic(request):
    # ruleid: python.code-injection.request-data
    func = globals().get(request.GET.get("fwd"))
    # ok: python.code-injection.request-data
    func2 = globals().get("fixed")
    return func, func2


def django_raw_sql(request):
    from django.db.models.expressions import RawSQL
    from myapp.models import Person

    name = request.GET.get("name", "")
    # ruleid: python.sql-injection.request-data
    Person.objects.annotate(val=RawSQL("SELECT name FROM p WHERE name = '%s'" % name, []))
    # ok: python.sql-injection.request-data
    Person.objects.annotate(val=RawSQL("SELECT name FROM p WHERE name = %s", [name]))


@app.route("/xpath-buffer", methods=["POST"])
def xpath_buffer():
    import io

    buf = io.StringIO()
    buf.write("/Employees/Employee[@id='")
    buf.write(request.form.get("id", ""))
    buf.write("']")
    root = lxml.etree.parse("employees.xml")
    # ruleid: python.xpath-injection.request-data
    nodes = root.xpath(buf.getvalue())
    # ok: python.xpath-injection.request-data
    fixed = root.xpath("/Employees/Employee")
    return str(len(nodes) + len(fixed))
