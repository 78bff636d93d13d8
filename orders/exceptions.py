"""The domain's error family. One DRF exception handler (config/api.py) turns
each into the contract's status code and body."""


class DomainError(Exception):
    status_code = 400

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class InvalidInput(DomainError):
    """400 with per-field errors, for rules only the service can check
    (an unknown food, an item that is not in the order)."""

    def __init__(self, errors: list[dict[str, str]], message: str = "Validation error"):
        super().__init__(message)
        self.errors = errors


class BadRequest(DomainError):
    status_code = 400


class NotFound(DomainError):
    status_code = 404


class Conflict(DomainError):
    status_code = 409
