"""The OpenAPI docs describe BearerAuthentication as the JWT bearer scheme
it extends (drf-spectacular's simplejwt extension, matched to our subclass),
and CookieAuthentication as the two cookies it reads, and the screens' key
cookie."""

from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme
from drf_spectacular.extensions import OpenApiAuthenticationExtension


class BearerScheme(SimpleJWTScheme):
    target_class = "users.authentication.BearerAuthentication"


class LoginCookieScheme(OpenApiAuthenticationExtension):
    """The login cookies of today's MySagra clients (CookieAuthentication):
    either one, the same token in both; two schemes, either of which will do."""

    target_class = "users.authentication.CookieAuthentication"
    name = ["mysagraSession", "mysagraToken"]

    def get_security_requirement(self, auto_schema):
        return [{"mysagraSession": []}, {"mysagraToken": []}]

    def get_security_definition(self, auto_schema):
        shared = (
            "The login token that POST /auth/login sets as an HttpOnly, SameSite=Lax cookie, for the "
            "token's lifetime (LOGIN_TOKEN_HOURS). The same checks as a Bearer token; no CSRF token is "
            'asked. A caller signed in by this cookie reads order ids as JSON strings ("42"), and its '
            "cashier event stream gets every cashier event by default."
        )
        return [
            {
                "type": "apiKey",
                "in": "cookie",
                "name": "mysagra_session",
                "description": f"{shared} Wins over `mysagra_token` when both are sent.",
            },
            {"type": "apiKey", "in": "cookie", "name": "mysagra_token", "description": shared},
        ]


class ScreenKeyScheme(OpenApiAuthenticationExtension):
    """A screen's device key, kept in an HttpOnly cookie once the TV opened
    its page with it (screens/keys.py)."""

    target_class = "screens.keys.ScreenKeyAuthentication"
    name = "screenKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "cookie",
            "name": "screen_key",
            "description": "A display or kitchen key, given once as `?key=` in the screen's address "
            "(/display/, /kitchen/) and then kept in this HttpOnly cookie.",
        }
