"""`make run` can be repeated: the demo goes only into an empty database
(passwords printed once, when made), and a busy port stops the run before
it migrates anything."""

from __future__ import annotations

import socket
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command

from orders.models import CashRegister, Category, Food, Printer
from scripts.port_free import main as port_free_main
from scripts.port_free import port_problem
from users.models import User

ROOT = Path(settings.BASE_DIR)


def load_demo(*args: str) -> str:
    out = StringIO()
    call_command("load_demo", *args, stdout=out)
    return out.getvalue()


def counts() -> tuple[int, ...]:
    return tuple(model.objects.count() for model in (Printer, Category, Food, CashRegister, User))


@pytest.fixture
def var_dir(tmp_path, settings):
    settings.VAR_DIR = tmp_path
    return tmp_path


def test_a_second_run_creates_nothing_and_prints_no_password(db, var_dir):
    first = load_demo()
    made = counts()
    assert made == (2, 4, 11, 1, 3)
    passwords = [line.split("\t")[2] for line in first.splitlines() if line.count("\t") == 2]
    assert len(passwords) == 3

    second = load_demo()

    assert counts() == made
    assert not any(password in second for password in passwords)
    assert (var_dir / "demo-credentials.txt").read_text().count("\n") == 3  # written once


def test_a_deleted_demo_food_stays_deleted(db, var_dir):
    load_demo()
    Food.objects.get(name="Diavola").delete()

    load_demo()

    assert not Food.objects.filter(name="Diavola").exists()


def test_the_organisers_own_menu_gets_no_demo_printers_beside_it(db, var_dir):
    Printer.objects.create(name="Bar", ip="192.168.1.50")

    output = load_demo()

    assert list(Printer.objects.values_list("name", "ip")) == [("Bar", "192.168.1.50")]
    assert not Food.objects.exists()
    assert "no demo menu added" in output
    assert User.objects.count() == 3  # an empty user table still gets the demo staff


def test_no_demo_account_is_made_when_someone_has_an_account(db, var_dir):
    User.objects.create_user(username="organiser", password="a-long-password-here")

    load_demo()

    assert list(User.objects.values_list("username", flat=True)) == ["organiser"]
    assert not (var_dir / "demo-credentials.txt").exists()


def test_add_puts_back_what_is_missing_of_the_demo_on_purpose(db, var_dir):
    load_demo()
    Food.objects.get(name="Diavola").delete()
    User.objects.get(username="waiter").delete()
    cashier_hash = User.objects.get(username="cashier").password

    output = load_demo("--add")

    assert Food.objects.filter(name="Diavola").count() == 1
    assert counts() == (2, 4, 11, 1, 3)
    assert "waiter" in output and "cashier\t" not in output
    assert User.objects.get(username="cashier").password == cashier_hash  # never reset


# --- the port check -----------------------------------------------------------------------


def test_a_free_port_passes_the_check():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    assert port_problem("127.0.0.1", port) is None


def test_a_port_in_use_fails_the_check_with_a_clear_message(capsys):
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]

        assert port_free_main(["127.0.0.1", str(port)]) == 1

    assert f"port {port} on 127.0.0.1 is already in use" in capsys.readouterr().err


def test_an_address_not_of_this_machine_fails_the_check():
    assert "not an address of this machine" in port_problem("192.0.2.1", 8000)


@pytest.mark.parametrize("arguments", [[], ["127.0.0.1"], ["127.0.0.1", "x"], ["127.0.0.1", "70000"], ["h", "８０"]])
def test_bad_arguments_are_a_usage_error(arguments, capsys):
    assert port_free_main(arguments) == 2
    assert "usage" in capsys.readouterr().err


def test_make_run_checks_the_port_before_it_migrates_or_loads_anything():
    recipe = subprocess.run(
        ["make", "-n", "run", "HOST=127.0.0.1", "PORT=8765", "BIN=" + str(Path(sys.executable).parent)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    steps = [line for line in recipe if "port_free" in line or "migrate" in line or "load_demo" in line]
    assert "port_free 127.0.0.1 8765" in steps[0]
    assert "migrate" in steps[1] and "load_demo" in steps[2]
