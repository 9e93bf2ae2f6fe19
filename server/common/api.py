"""flask-smorest's Api with its error answers in our envelope."""
from __future__ import annotations

import flask_smorest

from server.common.errors import http_error_response


class Api(flask_smorest.Api):
    def handle_http_exception(self, error):
        return http_error_response(error)
