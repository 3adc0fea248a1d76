"""A feature with thousands of levels keeps ``/openapi.json`` small: it names a few, counts the rest."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

from flask import Flask

from ...artifact import Artifact
from ...schema import CATEGORICAL, FeatureSpec, Schema, TargetSpec
from ..openapi import CATEGORIES_LISTED, build_openapi
from ..served import ServedModel


def document_for(artifact, categories):
    schema = Schema(
        features=(FeatureSpec("zip", CATEGORICAL, "object", False, categories=categories),),
        target=TargetSpec("target", classes=(0, 1), class_counts=(1, 1)),
    )
    metadata = dataclasses.replace(artifact.metadata, schema=schema)
    served = ServedModel(Artifact(model=artifact.model, metadata=metadata, path=Path()))
    return build_openapi(Flask(__name__, static_folder=None), served, max_rows=10)


def test_a_feature_with_many_levels_lists_a_few_and_counts_the_rest(artifact):
    levels = tuple(f"Z{code:05d}" for code in range(20_000))
    document = document_for(artifact, levels)
    size = len(json.dumps(document))
    assert size < 20_000, f"/openapi.json is {size:,} bytes with one 20,000-level feature"
    schemas = document["components"]["schemas"]
    for description in (
        schemas["Instance"]["properties"]["zip"]["description"],
        schemas["Columns"]["properties"]["zip"]["items"]["description"],
    ):
        assert ", ".join(levels[:CATEGORIES_LISTED]) in description
        assert levels[CATEGORIES_LISTED] not in description
        assert f"and {20_000 - CATEGORIES_LISTED:,} more" in description
    assert schemas["Instance"]["example"] == {"zip": "Z00000"}


def test_a_feature_with_few_levels_lists_them_all(artifact):
    levels = tuple(f"level{index}" for index in range(CATEGORIES_LISTED))
    description = document_for(artifact, levels)["components"]["schemas"]["Instance"][
        "properties"
    ]["zip"]["description"]
    assert f"training saw {', '.join(levels)} and had no missing values" in description
    assert "more" not in description
