# ruff: noqa
# Annotated target: modules in a `settings/` package are Django settings too.
# ruleid: python.django.debug-enabled
DEBUG = True
