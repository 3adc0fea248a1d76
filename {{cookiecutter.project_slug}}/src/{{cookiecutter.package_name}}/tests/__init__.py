"""Tests of the package (run with ``make test``)."""
