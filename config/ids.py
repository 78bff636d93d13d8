import uuid


def new_id() -> str:
    """Opaque, URL-safe string id for every resource except orders."""
    return uuid.uuid4().hex
