"""The OpenAPI docs describe BearerAuthentication as the JWT bearer scheme
it extends (drf-spectacular's simplejwt extension, matched to our subclass)."""

from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme


class BearerScheme(SimpleJWTScheme):
    target_class = "users.authentication.BearerAuthentication"
