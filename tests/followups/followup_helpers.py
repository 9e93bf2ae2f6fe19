"""Helpers of the follow-up tests (imported as `followup_helpers`): a phone that pushes and pulls
(the shared one of tests/helpers.py)."""
from __future__ import annotations

from helpers import PULL, PUSH, Phone, new_id, ops_of  # noqa: F401
