"""The project's few exception classes.

Two kinds of failure exist (STYLE.md): the model's mistakes (bad tool arguments, an unknown id) are not
exceptions at all — they go back to the model as tool-result text it can fix. What is raised here is
for failures the model cannot fix: a backend that is down or too slow, a model file that is missing
or corrupt. Our own bugs raise the ordinary Python exceptions.
"""
from __future__ import annotations


class ShopAssistError(Exception):
    """Base class: every error this project raises on purpose."""


class BackendError(ShopAssistError):
    """An LLM backend failed: server error, unusable response, model that cannot run here."""


class BackendTimeout(BackendError):
    """An LLM backend did not finish within the caller's `timeout_s`."""


class ModelFileError(ShopAssistError):
    """A model file is missing, cannot be assembled from its packages, or fails its sha256 check."""
