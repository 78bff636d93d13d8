"""GET /docs/schema/ builds the OpenAPI document once per process, not once
per request (api/schema_view.py): it is public, and a build costs about
0.2 s of CPU."""

from __future__ import annotations

import pytest
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from api.schema_view import SchemaView


@pytest.fixture
def builds(monkeypatch):
    """The document starts unbuilt; returns the list of builds made since."""
    monkeypatch.setattr(SchemaView, "_document", None)
    monkeypatch.setattr(SchemaView, "_rendered", {})
    made = []
    build = SchemaGenerator.get_schema

    def counted(self, *args, **kwargs):
        made.append(kwargs.get("request"))
        return build(self, *args, **kwargs)

    monkeypatch.setattr(SchemaGenerator, "get_schema", counted)
    return made


def test_the_document_is_built_once_for_many_requests_in_every_format(builds, db):
    client = APIClient()
    answers = [
        client.get("/docs/schema/?format=json"),
        client.get("/docs/schema/?format=json"),
        client.get("/docs/schema/"),
        client.get("/docs/schema/", HTTP_ACCEPT="application/json"),
        client.get("/docs/schema/?format=json&version=9.9&lang=de"),
    ]
    assert [answer.status_code for answer in answers] == [200] * 5
    assert len(builds) == 1
    assert answers[0].content == answers[1].content == answers[4].content
    assert answers[0]["Content-Type"] == "application/vnd.oai.openapi+json"
    assert answers[2]["Content-Type"] == "application/vnd.oai.openapi; charset=utf-8"
    assert answers[2].content.startswith(b"openapi: 3")
    assert answers[3]["Content-Type"] == "application/json"
    assert answers[0]["Content-Disposition"] == 'inline; filename="Ordering backend API.json"'


def test_the_document_does_not_depend_on_who_asks_or_on_the_version_asked(builds, db, admin_client):
    anonymous = APIClient().get("/docs/schema/?format=json").json()
    assert admin_client.get("/docs/schema/?format=json&version=2.0").json() == anonymous
    assert anonymous["info"]["version"] == "1.0.0"
    assert builds == [None]
