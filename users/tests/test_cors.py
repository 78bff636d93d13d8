"""CORS for cross-origin SPAs (CORS_ALLOWED_ORIGINS): the REST API, sign-in
and the event streams, against a real Daphne, from Chromium on another origin."""

import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from conftest import PASSWORD, bearer
from testsupport import hold_port, require_service
from testsupport.browser import chromium_available, launched_chromium

OTHER_ORIGIN = "http://127.0.0.1:9"  # never served: only its name is used


@pytest.fixture
def fast_password_hasher():
    """Daphne checks the password with the project's own hashers here."""


@pytest.fixture
def allowed_origin():
    """The SPA's origin: a loopback port held from now (scripts/ports.py)
    until the test ends, so that nobody else is listening there when the
    SPA's server binds it (spa_origin)."""
    held = hold_port()
    yield f"http://127.0.0.1:{held.port}"
    held.release()


@pytest.fixture
def server(daphne, allowed_origin):
    return daphne(CORS_ALLOWED_ORIGINS=allowed_origin)


def preflight(server, path: str, origin: str, headers: str = "authorization") -> httpx.Response:
    return httpx.options(
        server.url + path,
        headers={"Origin": origin, "Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": headers},
        timeout=10,
    )


@pytest.mark.parametrize("path", ["/v1/orders", "/auth/login", "/events/cashier"])
def test_a_preflight_from_an_allowed_origin_is_granted(server, allowed_origin, path):
    response = preflight(server, path, allowed_origin, "authorization,content-type,idempotency-key,last-event-id")
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == allowed_origin
    allowed = {name.strip() for name in response.headers["access-control-allow-headers"].split(",")}
    assert {"authorization", "content-type", "idempotency-key", "last-event-id"} <= allowed


@pytest.mark.parametrize("path", ["/v1/orders", "/auth/me", "/events/cashier"])
def test_another_origin_gets_no_cors_headers(server, path):
    assert "access-control-allow-origin" not in preflight(server, path, OTHER_ORIGIN).headers
    response = httpx.get(server.url + path, headers={"Origin": OTHER_ORIGIN}, timeout=10)
    assert response.status_code == 401
    assert "access-control-allow-origin" not in response.headers


def test_refusals_carry_the_headers_so_the_spa_can_read_them(server, allowed_origin, operator):
    for path in ("/v1/orders", "/events/cashier"):
        response = httpx.get(server.url + path, headers={"Origin": allowed_origin}, timeout=10)
        assert response.status_code == 401
        assert response.headers["access-control-allow-origin"] == allowed_origin
    response = httpx.get(server.url + "/events/nowhere", headers={"Origin": allowed_origin, **bearer(operator)})
    assert response.status_code == 400
    assert response.headers["access-control-allow-origin"] == allowed_origin


def test_pages_outside_the_api_get_no_cors_headers(server, allowed_origin):
    response = httpx.get(server.url + "/admin/login/", headers={"Origin": allowed_origin}, timeout=10)
    assert "access-control-allow-origin" not in response.headers


def test_without_cors_allowed_origins_nobody_gets_cors_headers(daphne, allowed_origin):
    server = daphne()
    for path in ("/v1/orders", "/events/cashier"):
        assert "access-control-allow-origin" not in preflight(server, path, allowed_origin).headers


# --- in Chromium, from a page on another origin -----------------------------------------------

SPA = """<!doctype html><meta charset="utf-8"><title>cross-origin SPA</title>
<script>
async function run(api, username, password, foodId) {
  const log = [];
  const login = await fetch(api + "/auth/login", {method: "POST",
    headers: {"Content-Type": "application/json"}, body: JSON.stringify({username, password})});
  const {accessToken, user} = await login.json();
  log.push(["login", login.status, user.role]);
  const auth = {"Authorization": "Bearer " + accessToken};
  const orders = await fetch(api + "/v1/orders", {headers: auth});
  log.push(["orders", orders.status, (await orders.json()).pagination.totalItems]);
  const streamToken = await (await fetch(api + "/auth/stream-token", {method: "POST", headers: auth})).json();
  const source = new EventSource(api + "/events/cashier?token=" + encodeURIComponent(streamToken.token));
  await new Promise((resolve, reject) => { source.onopen = resolve; source.onerror = () => reject("stream refused"); });
  log.push(["stream", "open"]);
  const received = new Promise(resolve => source.addEventListener("new-order", e => resolve(JSON.parse(e.data))));
  const created = await fetch(api + "/v1/orders", {method: "POST",
    headers: {...auth, "Content-Type": "application/json", "Idempotency-Key": "spa-1"},
    body: JSON.stringify({table: "7", customer: "Ann", orderItems: [{foodId, quantity: 1}]})});
  const order = await created.json();
  const event = await received;
  log.push(["created", created.status, event.id === order.id]);
  source.close();
  return log;
}
async function blocked(api) {
  try { await fetch(api + "/v1/orders", {headers: {"Authorization": "Bearer x"}}); return "read"; }
  catch (error) { return "blocked"; }
}
</script>"""


@pytest.fixture
def spa_origin(tmp_path, allowed_origin):
    """The SPA's page, served by a tiny http.server on the allowed origin's
    port (http.server binds with SO_REUSEADDR, beside the hold)."""
    (tmp_path / "index.html").write_text(SPA)
    handler = partial(SimpleHTTPRequestHandler, directory=str(tmp_path))
    httpd = ThreadingHTTPServer(("127.0.0.1", int(allowed_origin.rsplit(":", 1)[1])), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield allowed_origin
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def chromium(server, monkeypatch):
    available, reason = chromium_available()
    require_service("chromium", available, reason)
    with launched_chromium(monkeypatch) as browser:
        yield browser


@pytest.mark.browser
def test_a_spa_on_another_origin_signs_in_reads_the_api_and_follows_a_stream(
    server, operator, menu, spa_origin, chromium
):
    page = chromium.new_page()
    page.goto(f"{spa_origin}/index.html")

    log = page.evaluate(
        "([api, user, password, food]) => run(api, user, password, food)",
        [server.url, operator.username, PASSWORD, menu["margherita"].id],
    )

    assert log == [
        ["login", 200, "operator"],
        ["orders", 200, 0],
        ["stream", "open"],
        ["created", 201, True],
    ]


@pytest.mark.browser
def test_chromium_blocks_an_origin_that_is_not_allowed(daphne, server, spa_origin, chromium):
    # The same page against a server that allows no origin: the browser
    # refuses to hand the answer to the page.
    other = daphne(DJANGO_ALLOW_ASYNC_UNSAFE="")
    page = chromium.new_page()
    page.goto(f"{spa_origin}/index.html")
    assert page.evaluate("(api) => blocked(api)", other.url) == "blocked"
    assert page.evaluate("(api) => blocked(api)", server.url) == "read"
