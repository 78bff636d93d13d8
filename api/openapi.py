"""The OpenAPI document behind /docs/.

Invariant: every operation documents every error status it can answer with,
each with the contract's JSON error body, and the events endpoint, which is
served outside DRF, is documented too (events/openapi.py). Both are derived from the code where
the code knows (a view's permissions, its path parameters, its input) and
declared beside the view where only the view knows (`conflicts`, a 409).

- `ApiSchema` (DEFAULT_SCHEMA_CLASS) adds the error responses to each DRF
  operation: 400 when it reads a body or a query, 401 and 403 unless anyone
  may call it (a 401 also where credentials are checked), 404 when its path names a resource, 409 when its view says
  so in `conflicts`, 429 on the sign-in paths.
- `add_shared_components` (a postprocessing hook) adds the components every
  app's operations refer to; events/openapi.py's hook then adds
  `GET /events/{channel}` with its channels, events and payload schemas.
- api/schema_view.py serves the document at /docs/schema/, built once
  per process (not here: DRF imports this module while drf_spectacular's
  views import DRF's settings).
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import build_mock_request

from orders import schemas
from orders.schemas import ref

# ApiSchema overrides AutoSchema's private `_get_response_bodies` (no public
# hook adds responses to every operation): written for this drf-spectacular,
# the pin in requirements.txt; ops/tests/test_patches.py checks both.
WRITTEN_FOR = "0.30.0"

ERROR = schemas.obj({"message": {"type": "string"}}, description="Every error but a 400.")
VALIDATION_ERROR = schemas.obj(
    {
        "message": {
            "type": "string",
            "description": 'The one problem when there is exactly one (e.g. "Margherita is not available"), '
            'else "Validation error".',
        },
        "errors": {
            "type": "array",
            "items": schemas.obj(
                {
                    "field": {"type": "string", "description": "Dotted path, e.g. orderItems.0.quantity."},
                    "message": {"type": "string"},
                }
            ),
        },
    }
)
# Only on a reference to a food or till that is gone (or a disabled till).
_REFERENCE_CODE = {"type": "string", "enum": ["ForeignKeyConstraintViolation"]}
VALIDATION_ERROR["properties"]["error"] = {
    **_REFERENCE_CODE,
    "description": "Present when the body names a food or cash register that does not exist (or a disabled till).",
}
VALIDATION_ERROR["properties"]["type"] = {**_REFERENCE_CODE, "description": "The same as `error`."}

ERROR_DESCRIPTIONS = {
    "400": "Invalid input: a field, a query parameter or malformed JSON. Nothing was written.",
    "401": "Authentication required: no credentials, or a bad, expired or revoked token or key.",
    "403": "Insufficient permissions for the caller's role or key.",
    "404": "The resource in the path does not exist.",
    "409": "The request conflicts with the current state. Nothing was written.",
    "429": "Too many attempts; retry after the number of seconds in `Retry-After`.",
}

# Sign-in is throttled (API.md, Roles and authentication); these and the
# refresh answer bad credentials with a 401 although anyone may call them.
SIGN_IN_PATHS = ("/auth/login", "/auth/token")
CREDENTIAL_PATHS = (*SIGN_IN_PATHS, "/auth/token/refresh")


def error_response(code: str, description: str | None = None) -> dict[str, Any]:
    schema = ref("ValidationError" if code == "400" else "Error")
    response: dict[str, Any] = {
        "description": description or ERROR_DESCRIPTIONS[code],
        "content": {"application/json": {"schema": schema}},
    }
    if code == "429":
        response["headers"] = {"Retry-After": {"schema": {"type": "integer"}, "description": "Seconds to wait."}}
    return response


class ApiSchema(AutoSchema):
    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        conflicts = getattr(self.view, "conflicts", {})
        for code in self._error_codes(conflicts):
            responses.setdefault(code, error_response(code, conflicts.get(self.method) if code == "409" else None))
        return dict(sorted(responses.items()))

    def _error_codes(self, conflicts: dict[str, str]) -> list[str]:
        codes = []
        reads_query = any(parameter.get("in") == "query" for parameter in self._get_parameters())
        if self.method in ("POST", "PUT", "PATCH") or reads_query:
            codes.append("400")
        path = self.path.rstrip("/")
        if not self._is_public():
            codes += ["401", "403"]
        elif path in CREDENTIAL_PATHS:
            codes.append("401")
        if "{" in self.path:
            codes.append("404")
        if self.method in conflicts:
            codes.append("409")
        if path in SIGN_IN_PATHS:
            codes.append("429")
        return codes

    def _is_public(self) -> bool:
        """Whether an anonymous caller passes the view's permission checks
        for this method."""
        anonymous = build_mock_request(self.method, self.path, self.view, None)
        original = self.view.request
        self.view.request = anonymous
        try:
            return all(permission.has_permission(anonymous, self.view) for permission in self.view.get_permissions())
        except Exception:  # a check that needs more than a request is not public
            return False
        finally:
            self.view.request = original


def add_shared_components(result: dict[str, Any], generator, request, public) -> dict[str, Any]:
    """Postprocessing hook: the components every app's operations refer to."""
    component_schemas = result.setdefault("components", {}).setdefault("schemas", {})
    component_schemas.update(schemas.COMPONENTS)
    component_schemas["Error"] = ERROR
    component_schemas["ValidationError"] = VALIDATION_ERROR
    return result
