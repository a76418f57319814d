"""Fixtures shared by the FOMM animation and engine tests: the conformance vectors and model."""

from __future__ import annotations

import pytest

from helpers import conformance_model


@pytest.fixture(scope="module")
def vectors(conformance_vectors):
    """The published FOMM code's reference vectors (``../shared/conformance/fomm``)."""
    return conformance_vectors


@pytest.fixture(scope="module")
def model(vectors):
    """The conformance model: the published code's weights, which make the output depend visibly
    on the motion, and its outputs."""
    return conformance_model(vectors)
