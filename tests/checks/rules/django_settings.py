# ruff: noqa
# Annotated target for python.django.debug-enabled in checks/rules/python-web.yml; the rule only
# looks at settings modules, hence this file's name.
import os

# ruleid: python.django.debug-enabled
DEBUG = True

# ok: python.django.debug-enabled
DEBUG = os.environ.get("DJANGO_DEBUG") == "1"

if os.environ.get("LOCAL_DEV"):
    # ok: python.django.debug-enabled
    DEBUG = True


def configure():
    # ok: python.django.debug-enabled
    DEBUG = True
    return DEBUG
