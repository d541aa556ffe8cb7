# ruff: noqa
# Annotated target: DEBUG = True outside a settings module is not Django's setting, and .run() on a
# non-Flask object is not Flask's debugger.
import unittest

# ok: python.django.debug-enabled
DEBUG = True


class Runner:
    def go(self, suite):
        # ok: python.flask.debug-enabled
        unittest.TextTestRunner().run(suite, debug=True)
