# ruff: noqa
# Annotated target for checks/rules/python-deserialization.yml (semgrep's test convention):
# `# ruleid: <id>` marks the next line as a required match, `# ok: <id>` as a required non-match.
import json
import marshal
import pickle
import shelve
import xml.dom.minidom
import xml.etree.ElementTree as ET
import xml.sax
from pickle import loads as unpickle

import defusedxml.ElementTree
import dill
import joblib
import pandas as pd
import yaml
from lxml import etree


def unpickling(blob: bytes, path: str) -> None:
    # ruleid: python.deserialization.pickle
    pickle.loads(blob)
    # ruleid: python.deserialization.pickle
    with open(path, "rb") as fh: pickle.load(fh)
    # ruleid: python.deserialization.pickle
    unpickle(blob)
    # ruleid: python.deserialization.pickle
    dill.loads(blob)
    # ruleid: python.deserialization.pickle
    pd.read_pickle(path)
    # ruleid: python.deserialization.pickle
    joblib.load(path)
    # ok: python.deserialization.pickle
    pickle.dumps({"a": 1})
    # ok: python.deserialization.pickle
    json.loads(blob)


def yaml_loading(text: str) -> None:
    # ruleid: python.deserialization.yaml-load
    yaml.load(text)
    # ruleid: python.deserialization.yaml-load
    yaml.load(text, Loader=yaml.Loader)
    # ruleid: python.deserialization.yaml-load
    yaml.load(text, Loader=yaml.UnsafeLoader)
    # ruleid: python.deserialization.yaml-load
    yaml.load_all(text, yaml.FullLoader)
    # ruleid: python.deserialization.yaml-load
    yaml.unsafe_load(text)
    # ok: python.deserialization.yaml-load
    yaml.safe_load(text)
    # ok: python.deserialization.yaml-load
    yaml.load(text, Loader=yaml.SafeLoader)
    # ok: python.deserialization.yaml-load
    yaml.load(text, yaml.CSafeLoader)
    # ok: python.deserialization.yaml-load
    yaml.safe_load_all(text)


def other_formats(blob: bytes, path: str) -> None:
    # ruleid: python.deserialization.marshal
    marshal.loads(blob)
    # ok: python.deserialization.marshal
    marshal.dumps([1, 2])
    # ruleid: python.deserialization.shelve
    db = shelve.open(path)
    # ok: python.deserialization.shelve
    data = json.load(open(path))


def xml_parsing(body: str, path: str) -> None:
    # ruleid: python.xxe.stdlib-parser
    ET.fromstring(body)
    # ruleid: python.xxe.stdlib-parser
    xml.dom.minidom.parseString(body)
    # ruleid: python.xxe.stdlib-parser
    xml.sax.parse(path, handler=None)
    # ok: python.xxe.stdlib-parser
    defusedxml.ElementTree.fromstring(body)
    # ok: python.xxe.stdlib-parser
    ET.fromstring("<config/>")
    # ok: python.xxe.stdlib-parser
    ET.tostring(ET.Element("a"))


def lxml_parsing(body: bytes, path: str) -> None:
    # ruleid: python.xxe.external-entities-enabled
    parser = etree.XMLParser(resolve_entities=True)
    # ruleid: python.xxe.external-entities-enabled
    loose = etree.XMLParser(no_network=False, recover=True)
    sax_parser = xml.sax.make_parser()
    # ruleid: python.xxe.external-entities-enabled
    sax_parser.setFeature(xml.sax.handler.feature_external_ges, True)
    # ok: python.xxe.external-entities-enabled
    safe = etree.XMLParser(resolve_entities=False, no_network=True)
    # ok: python.xxe.external-entities-enabled
    sax_parser.setFeature(xml.sax.handler.feature_external_ges, False)
    # ruleid: python.xxe.lxml-default-parser
    etree.fromstring(body)
    # ruleid: python.xxe.lxml-default-parser
    etree.parse(path)
    # ok: python.xxe.lxml-default-parser
    etree.fromstring(body, parser=safe)
    # ok: python.xxe.lxml-default-parser
    etree.parse(path, safe)
    # ok: python.xxe.lxml-default-parser
    etree.fromstring("<a/>")


def ruamel_is_not_pyyaml(text: str) -> None:
    from ruamel.yaml import YAML

    yaml = YAML(typ="safe")
    # ok: python.deserialization.yaml-load
    yaml.load(text)
