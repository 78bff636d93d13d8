"""Each library patch holds for the version it was written for: the
installed version is that one, and the private names it touches are there
and behave as the patch expects. A failure here after an upgrade names what
to re-check (docs/deploy.md, "Library patches")."""

import ast
import functools
import importlib.metadata
import importlib.util
import inspect
import socket
from pathlib import Path

import pytest
from twisted.internet import tcp
from twisted.internet.task import Clock
from twisted.internet.testing import MemoryReactor, StringTransport
from twisted.web import http

from api import openapi as api_openapi
from ops.patches import daphne as daphne_patches
from ops.patches import django as django_patches
from ops.patches import eventstream as eventstream_patches
from ops.patches import twisted as twisted_patches
from printeragent import sse as agent_sse

PATCHES = [
    ("twisted", twisted_patches),
    ("daphne", daphne_patches),
    ("django-eventstream", eventstream_patches),
    ("django", django_patches),
    # Private names used where they are needed, not replaced for the process:
    ("drf-spectacular", api_openapi),
    ("httpx-sse", agent_sse),
]


@pytest.mark.parametrize(("distribution", "patch"), PATCHES)
def test_each_patch_is_for_the_installed_version_of_its_library(distribution, patch):
    assert importlib.metadata.version(distribution) == patch.WRITTEN_FOR


def pinned(distribution: str) -> str:
    requirements = Path(__file__).resolve().parents[2] / "requirements.txt"
    for line in requirements.read_text().splitlines():
        name, _, version = line.partition("==")
        if name.strip().lower() == distribution:
            return version.strip()
    raise LookupError(distribution)


@pytest.mark.parametrize(("distribution", "patch"), PATCHES)
def test_each_patch_names_the_version_pinned_in_the_requirements(distribution, patch):
    assert pinned(distribution) == patch.WRITTEN_FOR


# --- Twisted ---------------------------------------------------------------------------


class RecordingChannel(twisted_patches.UnreadableRequestChannel):
    def __init__(self):
        super().__init__()
        self.refused: list[str] = []

    def unreadable_request(self, kind):
        self.refused.append(kind)


def connected(channel: http.HTTPChannel) -> tuple[http.HTTPChannel, StringTransport]:
    channel.callLater = Clock().callLater  # as HTTPFactory.buildProtocol does, without the global reactor
    transport = StringTransport()
    channel.makeConnection(transport)
    return channel, transport


@pytest.mark.parametrize(
    ("received", "kind"),
    [
        (b"GET /" + b"y" * 20_000 + b" HTTP/1.1\r\n", "request line too long"),
        (b"GET / HTTP/1.1\r\nX-Long: " + b"y" * 20_000 + b"\r\n", "headers too large"),
        (b"GET / HTTP/1.1\r\n" + b"".join(b"X-%d: %s\r\n" % (n, b"y" * 100) for n in range(200)), "headers too large"),
        (b"GET / HTTP/1.1\r\n" + b"".join(b"X-%d: y\r\n" % n for n in range(600)) + b"\r\n", "headers too large"),
        (b"NONSENSE\r\n", "bad request"),
        (b"POST / HTTP/1.1\r\nContent-Length: twelve\r\n\r\n", "bad request"),
    ],
)
def test_twisteds_refusals_of_unreadable_requests_reach_the_hook_told_apart(received, kind):
    channel, _ = connected(RecordingChannel())
    channel.dataReceived(received)
    assert channel.refused[:1] == [kind]


def test_without_an_answer_of_its_own_the_channel_refuses_as_twisted_does():
    channel, transport = connected(twisted_patches.UnreadableRequestChannel())
    channel.dataReceived(b"NONSENSE\r\n")
    assert transport.value() == b"HTTP/1.1 400 Bad Request\r\n\r\n"
    assert transport.disconnecting


def test_a_channel_reads_as_paused_while_its_transport_has_paused_it():
    channel, _ = connected(http.HTTPChannel())
    assert not twisted_patches.transport_paused(channel)
    channel.pauseProducing()
    assert twisted_patches.transport_paused(channel)
    channel.resumeProducing()
    assert not twisted_patches.transport_paused(channel)


def test_twisteds_factory_wraps_its_channels_as_channel_protocol_does():
    wrapped = twisted_patches.channel_protocol(http.HTTPChannel())
    assert type(wrapped) is type(http.HTTPFactory().protocol())


def on_a_socket(channel: http.HTTPChannel):
    """`channel` on a real TCP transport over one end of a socket pair (the
    other end returned, to read what reached it), in a reactor that only
    records which descriptors wait to write."""
    ours, theirs = socket.socketpair()
    ours.setblocking(False)
    theirs.setblocking(False)
    reactor = MemoryReactor()
    transport = tcp.Server(ours, channel, ("127.0.0.1", 1), None, 0, reactor)
    channel.callLater = Clock().callLater
    channel.makeConnection(transport)
    return transport, theirs, reactor


def received(sock: socket.socket) -> bytes:
    try:
        return sock.recv(1 << 20)
    except BlockingIOError:
        return b""


def test_a_body_written_with_nothing_waiting_reaches_the_socket_at_once():
    transport, theirs, reactor = on_a_socket(twisted_patches.SendNowChannel())
    transport.protocol.writeSequence([b"5\r\n", b"hello", b"\r\n"])
    assert received(theirs) == b"5\r\nhello\r\n"
    assert transport not in reactor.getWriters()


def test_twisteds_own_write_waits_for_the_reactor():
    # What SendNowChannel saves: without it, the bytes wait for the loop's next turn.
    transport, theirs, reactor = on_a_socket(http.HTTPChannel())
    transport.protocol.write(b"hello")
    assert received(theirs) == b""
    assert transport in reactor.getWriters()


def test_a_body_written_behind_waiting_bytes_waits_behind_them():
    transport, theirs, reactor = on_a_socket(twisted_patches.SendNowChannel())
    transport.write(b"HTTP/1.1 200 OK\r\n\r\n")  # the headers, written Twisted's way
    transport.protocol.write(b"body")
    assert received(theirs) == b""
    transport.doWrite()
    assert received(theirs) == b"HTTP/1.1 200 OK\r\n\r\nbody"


def test_what_the_socket_does_not_take_waits_in_twisteds_buffer():
    transport, theirs, reactor = on_a_socket(twisted_patches.SendNowChannel())
    big = bytes(range(256)) * 40_000  # 10 MB: more than a socket pair's buffers hold
    transport.protocol.write(big)
    assert transport in reactor.getWriters()
    got = received(theirs)
    assert 0 < len(got) < len(big)
    while len(got) < len(big):
        transport.doWrite()
        got += received(theirs)
    assert got == big


def test_a_closing_or_tls_transport_is_written_twisteds_way():
    transport, theirs, _ = on_a_socket(twisted_patches.SendNowChannel())
    transport.disconnecting = True
    assert not twisted_patches.send_now(transport, b"x")
    transport.disconnecting = False
    transport.TLS = True
    assert not twisted_patches.send_now(transport, b"x")
    assert not twisted_patches.send_now(StringTransport(), b"x")
    assert received(theirs) == b""


def test_a_lost_connection_is_left_to_twisted_to_find():
    transport, theirs, reactor = on_a_socket(twisted_patches.SendNowChannel())
    theirs.close()
    assert not twisted_patches.send_now(transport, b"y")  # the send failed: nothing done
    transport.protocol.write(b"y")  # Twisted's own write then finds the loss in the reactor
    assert transport in reactor.getWriters()
    assert transport.doWrite() is not None


# --- Daphne ----------------------------------------------------------------------------
# daphne.server is read as source, not imported: importing it installs
# Twisted's asyncio reactor in the test process.


def daphne_source(module: str) -> ast.Module:  # any library's module, read as source
    return ast.parse(Path(importlib.util.find_spec(module).origin).read_text())


def method(tree: ast.Module, class_name: str, name: str) -> str:
    [found] = [
        node
        for klass in tree.body
        if isinstance(klass, ast.ClassDef) and klass.name == class_name
        for node in klass.body
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name == name
    ]
    return ast.unparse(found)


def test_daphnes_server_builds_its_http_factory_from_its_module_name():
    run = method(daphne_source("daphne.server"), "Server", "run")
    assert "self.http_factory = HTTPFactory(self)" in run
    assert "ep.listen(self.http_factory)" in run


def test_daphnes_send_of_a_body_is_twisteds_request_write_once_started_until_finished():
    reply = method(daphne_source("daphne.http_protocol"), "WebRequest", "handle_reply")
    assert "if self.finished or self.channel is None:\n        return" in reply
    assert "if not self._response_started:" in reply
    assert "http.Request.write(self, message.get('body', b''))" in reply


def test_a_body_written_now_is_what_daphnes_send_would_write():
    channel, transport = connected(http.HTTPChannel())
    request = http.Request(channel)
    channel.requests.append(request)  # as the channel does for a request it reads
    request.clientproto, request.method = b"HTTP/1.1", b"GET"
    request._response_started = False
    assert not daphne_patches.write_body_now(request, b"early")
    request._response_started = True
    assert daphne_patches.write_body_now(request, b"hello")
    assert transport.value().endswith(b"\r\n\r\n5\r\nhello\r\n")
    request.finish()
    assert not daphne_patches.write_body_now(request, b"late")
    assert transport.value().endswith(b"0\r\n\r\n")


def test_daphnes_send_is_a_partial_of_handle_reply_on_the_twisted_request():
    assert "send=partial(self.handle_reply, protocol)" in method(
        daphne_source("daphne.server"), "Server", "create_application"
    )


def test_daphnes_command_line_builds_its_server_from_server_class_with_the_arguments_we_set():
    run = method(daphne_source("daphne.cli"), "CommandLineInterface", "run")
    assert "self.server = self.server_class(" in run
    assert "endpoints=endpoints" in run and "action_logger=" in run


def test_daphnes_factory_sets_the_request_class_that_ours_replaces_after_it():
    from daphne import http_protocol

    assert "protocol.requestFactory = WebRequest" in inspect.getsource(http_protocol.HTTPFactory.buildProtocol)
    assert list(inspect.signature(http_protocol.WebRequest.basic_error).parameters) == [
        "self",
        "status",
        "status_text",
        "body",
    ]


def test_the_twisted_request_is_found_behind_daphnes_send_and_its_wrappers():
    class Request:
        channel = object()

        def registerProducer(self, producer, streaming):  # noqa: N802
            pass

    class Wrapper:
        def __init__(self, inner):
            self.inner = inner

    request = Request()
    send = functools.partial(lambda request, message: None, request)
    assert daphne_patches.twisted_request(send) is request
    assert daphne_patches.twisted_request(Wrapper(Wrapper(send))) is request
    assert daphne_patches.twisted_request(lambda message: None) is None


# --- django-eventstream ----------------------------------------------------------------


def test_the_librarys_send_event_publishes_through_its_module_names():
    from django_eventstream import eventstream

    send_event = inspect.getsource(eventstream.send_event)
    assert "publish_event(" in send_event
    assert "redis_client.publish(" in send_event
    assert "publish_event" in vars(eventstream) and "redis_client" in vars(eventstream)


def test_the_librarys_publish_is_replaced_by_the_projects_which_takes_the_same_arguments():
    from django_eventstream import eventstream, utils

    from events.transport import grip

    assert eventstream.publish_event is grip.publish_event
    assert (
        inspect.signature(grip.publish_event).parameters.keys()
        == inspect.signature(utils.publish_event).parameters.keys()
    )


# --- Django ----------------------------------------------------------------------------


def test_a_lazy_object_gives_its_value_only_once_evaluated():
    from django.utils.functional import SimpleLazyObject

    evaluated = []
    lazy = SimpleLazyObject(lambda: evaluated.append(1) or "ann")
    assert django_patches.lazy_value(lazy) is None
    assert evaluated == []
    assert str(lazy) == "ann"
    assert django_patches.lazy_value(lazy) == "ann"
    assert django_patches.lazy_value("bob") == "bob"


def test_djangos_asgi_handler_builds_its_chain_and_answers_through_what_ours_overrides():
    tree = daphne_source("django.core.handlers.asgi")
    assert "self.load_middleware(is_async=True)" in method(tree, "ASGIHandler", "__init__")
    assert "self.run_get_response(request)" in method(tree, "ASGIHandler", "handle")
    assert "response = await self.get_response_async(request)" in method(tree, "ASGIHandler", "run_get_response")
    base = daphne_source("django.core.handlers.base")
    assert "response = self._middleware_chain(request)" in method(base, "BaseHandler", "get_response")


def test_rows_of_two_models_are_inserted_together_in_one_statement_on_postgresql(db, django_assert_num_queries):
    from django.contrib.auth.models import Group
    from django.contrib.contenttypes.models import ContentType
    from django.db import connection

    groups = [Group(id=9001, name="cooks"), Group(id=9002, name="waiters")]
    kinds = [ContentType(id=9001, app_label="festival", model="stand")]
    with django_assert_num_queries(1 if connection.vendor == "postgresql" else 2):
        django_patches.insert_together(groups, kinds)
    assert sorted(Group.objects.filter(id__gte=9001).values_list("name", flat=True)) == ["cooks", "waiters"]
    assert ContentType.objects.get(id=9001).model == "stand"
    assert not any(row._state.adding for row in [*groups, *kinds])
    assert all(row._state.db == connection.alias for row in [*groups, *kinds])


# --- drf-spectacular and httpx-sse ---------------------------------------------------------


def test_the_schemas_override_of_the_response_bodies_still_has_a_method_to_override():
    from drf_spectacular.openapi import AutoSchema

    assert list(inspect.signature(AutoSchema._get_response_bodies).parameters) == ["self", "direction"]
    assert "self._get_response_bodies()" in inspect.getsource(AutoSchema.get_operation)


def test_the_agents_sse_reader_finds_the_decoders_it_feeds_and_what_they_answer():
    from httpx_sse._decoders import SSEDecoder, SSELineDecoder

    lines = SSELineDecoder()
    assert list(lines.decode("id: 7\ndata: {}\n")) == ["id: 7", "data: {}"]
    fields = SSEDecoder()
    assert fields.decode("id: 7") is None and fields.decode("data: {}") is None
    event = fields.decode("")
    assert (event.id, event.data, event.event) == ("7", "{}", "message")
