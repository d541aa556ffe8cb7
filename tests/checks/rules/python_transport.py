# ruff: noqa
# Annotated target for checks/rules/python-transport.yml (semgrep's test convention):
# `# ruleid: <id>` marks the next line as a required match, `# ok: <id>` as a required non-match.
import ftplib
import http.client
import ssl
import telnetlib
from urllib.request import OpenerDirector, Request, urlopen

import paramiko
import pymongo
import requests
from OpenSSL import SSL


def cleartext_urls(host: str) -> None:
    # ruleid: python.transport.cleartext-url
    requests.get("http://example.com/api")
    # ok: python.transport.cleartext-url
    requests.get("https://example.com/api")
    # ok: python.transport.cleartext-url
    requests.get("http://localhost:8080/health")
    url = "http://example.com/feed"
    # ruleid: python.transport.cleartext-url
    urlopen(url)
    # ruleid: python.transport.cleartext-url
    Request("ftp://example.com/file")
    opener = OpenerDirector()
    # ruleid: python.transport.cleartext-url
    opener.open("http://example.com/")
    session = requests.Session()
    # ruleid: python.transport.cleartext-url
    session.post("http://example.com/login")
    # ok: python.transport.cleartext-url
    requests.get(f"https://{host}/x")


def default_url(url: str = "http://example.com") -> None:
    # ruleid: python.transport.cleartext-url
    urlopen(url)


def clients(user: str, password: str) -> None:
    # ruleid: python.transport.cleartext-protocol
    ftp = ftplib.FTP("ftp.example.com", user, password)
    # ok: python.transport.cleartext-protocol
    ftps = ftplib.FTP_TLS("ftp.example.com", user, password)
    # ruleid: python.transport.cleartext-protocol
    tn = telnetlib.Telnet("host")
    # ruleid: python.transport.credentials-over-http
    requests.post("http://example.com/login", auth=(user, password))
    # ok: python.transport.credentials-over-http
    requests.post("https://example.com/login", auth=(user, password))
    # ruleid: python.transport.https-connection-unverified
    http.client.HTTPSConnection("example.com")
    # ok: python.transport.https-connection-unverified
    http.client.HTTPSConnection("example.com", context=ssl.create_default_context())
    # ruleid: python.transport.weak-tls-version
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLSv1)
    # ok: python.transport.weak-tls-version
    ctx2 = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    # ruleid: python.transport.weak-tls-version
    SSL.Context(SSL.SSLv3_METHOD)
    client = paramiko.SSHClient()
    # ruleid: python.transport.ssh-auto-add-host-key
    client.set_missing_host_key_policy(paramiko.AutoAddPolicy())
    # ok: python.transport.ssh-auto-add-host-key
    client.set_missing_host_key_policy(paramiko.RejectPolicy())
    # ruleid: python.transport.mongodb-cr-auth
    pymongo.MongoClient("db", username=user, password=password, authMechanism="MONGODB-CR")
    # ok: python.transport.mongodb-cr-auth
    pymongo.MongoClient("db", username=user, password=password, authMechanism="SCRAM-SHA-256")
