"""Django's part of a request, through the application Daphne serves
(config.asgi), runs in one hop to the request's thread
(config/django_handler.py): no hop back to the event loop in the middle,
and what the middleware and the views answer is unchanged."""

import asyncio
import json

import pytest
from asgiref import sync

from config import django_handler
from testsupport.asgi import body_then_silence, http_scope


def answer(method: str, path: str, body: bytes = b"", headers: tuple = ()) -> tuple[int, dict, bytes]:
    from config.asgi import application

    async def exchange():
        got = {"body": b""}

        async def send(message):
            if message["type"] == "http.response.start":
                got["status"] = message["status"]
                got["headers"] = {name.lower(): value for name, value in message["headers"]}
            else:
                got["body"] += message.get("body", b"")

        await asyncio.wait_for(application(http_scope(method, path, body, headers), body_then_silence(body), send), 30)
        return got["status"], got["headers"], got["body"]

    return asyncio.run(exchange())


@pytest.fixture
def hops_back_to_the_loop(monkeypatch):
    """How many times code in a request's thread hopped back to the event loop."""
    calls = []
    original = sync.AsyncToSync.__call__

    def counted(self, *args, **kwargs):
        calls.append(getattr(self.awaitable, "__qualname__", repr(self.awaitable)))
        return original(self, *args, **kwargs)

    monkeypatch.setattr(sync.AsyncToSync, "__call__", counted)
    return calls


def test_the_middleware_chain_is_built_for_the_requests_thread():
    handler = django_handler.OneHopASGIHandler()
    assert not sync.iscoroutinefunction(handler._middleware_chain)
    assert not any(sync.iscoroutinefunction(method) for method in handler._view_middleware)


@pytest.mark.django_db(transaction=True)
def test_a_request_goes_through_middleware_and_view_without_hopping_back_to_the_loop(hops_back_to_the_loop):
    status, _, body = answer("GET", "/v1/categories")
    assert status == 200
    assert isinstance(json.loads(body), list)
    assert hops_back_to_the_loop == []


@pytest.mark.django_db(transaction=True)
def test_a_template_page_is_rendered_and_a_form_without_its_csrf_token_refused():
    status, headers, body = answer("GET", "/admin/login/")
    assert status == 200
    assert b'name="csrfmiddlewaretoken"' in body
    assert headers[b"content-type"].startswith(b"text/html")
    form = b"username=someone&password=wrong"
    status, _, _ = answer("POST", "/admin/login/", form, ((b"content-type", b"application/x-www-form-urlencoded"),))
    assert status == 403


@pytest.mark.django_db(transaction=True)
def test_an_error_answer_is_still_the_apis_json():
    status, headers, body = answer("GET", "/v1/orders/1")  # nobody signed in
    assert status == 401
    assert headers[b"content-type"].startswith(b"application/json")
    assert json.loads(body)
