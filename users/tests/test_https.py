"""HTTPS in one switch: HTTPS=1 turns on secure cookies, HSTS, the redirect
of plain HTTP and trust in the proxy's X-Forwarded-Proto, and makes
`manage.py check --deploy` clean. Without it a local run serves plain HTTP
as before."""

import os
import secrets
import subprocess
import sys

import httpx
from django.conf import settings
from django.test import Client

from testsupport.processes import BASE_DIR


def check_deploy(**env: str) -> subprocess.CompletedProcess:
    environment = {key: value for key, value in os.environ.items() if key not in {"HTTPS", "DJANGO_DEBUG"}}
    environment.update(DJANGO_SECRET_KEY=secrets.token_urlsafe(50), DJANGO_SETTINGS_MODULE="config.settings", **env)
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=BASE_DIR,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_is_clean_with_https_on():
    result = check_deploy(HTTPS="1")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout
    assert "WARNINGS" not in result.stderr + result.stdout


def test_check_deploy_names_the_https_settings_while_https_is_off():
    result = check_deploy()
    output = result.stdout + result.stderr
    assert result.returncode != 0
    for warning in ("security.W004", "security.W008", "security.W012", "security.W016"):
        assert warning in output


def test_the_local_default_serves_plain_http_with_cookies_that_work_over_it(db):
    assert not settings.HTTPS
    response = Client().get("/login/")
    assert response.status_code == 200
    assert "Strict-Transport-Security" not in response
    assert not response.cookies["csrftoken"]["secure"]


def test_with_https_on_plain_http_is_redirected_and_https_gets_hsts_and_secure_cookies(daphne):
    server = daphne(HTTPS="1")
    plain = httpx.get(server.url + "/login/?next=/kitchen/")
    assert plain.status_code == 301
    assert plain.headers["Location"] == f"https://127.0.0.1:{server.port}/login/?next=/kitchen/"

    secure = httpx.get(server.url + "/login/", headers={"X-Forwarded-Proto": "https"})
    assert secure.status_code == 200
    assert secure.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
    csrf_cookie = next(header for header in secure.headers.get_list("Set-Cookie") if header.startswith("csrftoken="))
    assert "Secure" in csrf_cookie
