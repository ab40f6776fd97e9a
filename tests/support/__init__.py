"""Helpers the tests import (plain modules); the fixtures that use them live in conftest.py files."""
