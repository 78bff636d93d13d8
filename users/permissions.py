"""Who may call a view. People by role; devices (API keys) by the view's
allow list: a view opts keys in with

    api_key_access = {(ApiKeyKind.PRINTER_AGENT, "GET"), ...}

a set of (kind, method) pairs, and a key may do exactly what its view lists
(HEAD counts as GET). Invariant: a view that lists nothing gives keys nothing,
whatever it allows people (even the menu, which anyone may read, is a 403 for
a key not listed): every permission class here refuses a key that is not on
the view's list, and the default permission (IsAdminOrOperator) is one of them.
"""

from rest_framework.permissions import BasePermission

from users.apikeys import Device
from users.models import Role

# Who may do an operator's work: a maintainer may everything an operator may.
OPERATOR_ROLES = (Role.ADMIN, Role.OPERATOR, Role.MAINTAINER)


def key_allowed(request, view) -> bool:
    """Whether the view's `api_key_access` lists the request's key kind and method."""
    method = "GET" if request.method == "HEAD" else request.method
    return (request.user.kind, method) in getattr(view, "api_key_access", ())


def _has_role(request, roles: tuple[str, ...]) -> bool:
    user = request.user
    return bool(user and user.is_authenticated and user.has_role(*roles))


class _PeopleOrListedKeys(BasePermission):
    def has_permission(self, request, view) -> bool:
        if isinstance(request.user, Device):
            return key_allowed(request, view)
        return self.person_may(request, view)

    def person_may(self, request, view) -> bool:
        raise NotImplementedError


class IsAdmin(_PeopleOrListedKeys):
    def person_may(self, request, view) -> bool:
        return _has_role(request, (Role.ADMIN,))


class IsAdminOrOperator(_PeopleOrListedKeys):
    """Admins, operators and maintainers."""

    def person_may(self, request, view) -> bool:
        return _has_role(request, OPERATOR_ROLES)


class IsAdminOrMaintainer(_PeopleOrListedKeys):
    """What a maintainer may beyond an operator: reports, the printer
    agent's configuration (its printers)."""

    def person_may(self, request, view) -> bool:
        return _has_role(request, (Role.ADMIN, Role.MAINTAINER))


class IsKitchenStaff(_PeopleOrListedKeys):
    """The kitchen display's reads and bumps: admins, operators and cooks."""

    def person_may(self, request, view) -> bool:
        return _has_role(request, (Role.ADMIN, Role.OPERATOR, Role.KITCHEN))


class IsStaffMember(_PeopleOrListedKeys):
    """Any role: admin, operator, maintainer or waiter."""

    def person_may(self, request, view) -> bool:
        return _has_role(request, (*OPERATOR_ROLES, Role.WAITER))


class ReadAnyoneWriteAdmin(_PeopleOrListedKeys):
    """The menu: anyone may read it, only an admin may change it."""

    def person_may(self, request, view) -> bool:
        if request.method in ("GET", "HEAD", "OPTIONS"):
            return True
        return _has_role(request, (Role.ADMIN,))


class IsSignedIn(_PeopleOrListedKeys):
    """A signed-in person, whatever their role (and the keys the view lists)."""

    def person_may(self, request, view) -> bool:
        return bool(request.user and request.user.is_authenticated)


class IsPerson(BasePermission):
    """A signed-in person, whatever their role: what a device key is not
    (/auth/logout: a key is not a login; it is revoked in the admin). A key
    gets the 403 of every other refusal."""

    def has_permission(self, request, view) -> bool:
        user = request.user
        return bool(user and user.is_authenticated and not isinstance(user, Device))


class ReadAnyoneWriteAdminSoldOutOperator(ReadAnyoneWriteAdmin):
    """Foods and categories: as the menu, and an operator (cashier) may also
    mark one sold out and back, a PATCH whose body is `available` alone
    (anything else in the body is a 403 for them, and nothing changes)."""

    def person_may(self, request, view) -> bool:
        if super().person_may(request, view):
            return True
        if request.method != "PATCH" or not _has_role(request, (Role.OPERATOR,)):
            return False
        body = request.data
        return isinstance(body, dict) and set(body) == {"available"}
