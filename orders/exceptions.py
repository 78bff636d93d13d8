"""The domain's error family. One DRF exception handler (api/rest.py) turns
each into the contract's status code and body."""


class DomainError(Exception):
    status_code = 400

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class InvalidInput(DomainError):
    """400 with per-field errors, for rules only the service can check
    (an unknown food, an item that is not in the order)."""

    def __init__(self, errors: list[dict[str, str]], message: str = "Validation error", *, code: str | None = None):
        super().__init__(message)
        self.errors = errors
        # A machine-readable name of the error, sent as `error` (and `type`):
        # today's tills re-read the menu or the tills on a reference error.
        self.code = code


# An order names a food or a till that does not exist (or is disabled): the
# till re-reads its tills and foods (MySagra's Prisma error name).
REFERENCE_ERROR = "ForeignKeyConstraintViolation"


class BadRequest(DomainError):
    status_code = 400


class NotFound(DomainError):
    status_code = 404


class Conflict(DomainError):
    status_code = 409
