"""The installed distribution and the import package agree."""

from importlib.metadata import version

from .. import DISTRIBUTION, __version__


def test_version_comes_from_the_installed_distribution():
    assert __version__ == version(DISTRIBUTION)
    assert __version__ != "0+unknown"
