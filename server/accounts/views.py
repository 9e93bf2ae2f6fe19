"""Accounts travel by sync (feed "account", mutations account.*); no HTTP endpoints yet.

Importing the service here registers the owner-change hook when the app is built, so accounts
follow their customer's owner whichever channel (HTTP, sync, jobs) moves the customer.
"""
from flask_smorest import Blueprint

import server.accounts.service  # noqa: F401 — registers the owner-change hook

blp = Blueprint("accounts", __name__, url_prefix="/api/v1/accounts", description="accounts")
