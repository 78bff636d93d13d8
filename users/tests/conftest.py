import pytest


@pytest.fixture(autouse=True)
def fast_password_hasher(settings):
    # The default hasher costs ~0.4 s per password here; these tests are
    # about tokens and roles, not about the hasher.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
