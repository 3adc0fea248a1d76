"""Tests of experiment tracking; they go away with the subpackage."""
