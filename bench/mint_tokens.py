"""Give a storm its clients: USERS operators (storm-0001 …) and COUNT Bearer
access tokens, issued by simplejwt as POST /auth/token issues them (each
with its own `jti` and the password digest claim), spread over the users
round robin. One token per line in OUT. Signing in 10,000 times over HTTP
would measure the password hasher, not the storm.

    DATABASE_URL=... python bench/mint_tokens.py --users 400 --count 10000 --out tokens.txt
"""

import argparse
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.contrib.auth.hashers import make_password  # noqa: E402
from rest_framework_simplejwt.tokens import AccessToken  # noqa: E402

from users.models import Role  # noqa: E402

parser = argparse.ArgumentParser()
parser.add_argument("--users", type=int, required=True)
parser.add_argument("--count", type=int, required=True)
parser.add_argument("--out", type=Path, required=True)
args = parser.parse_args()

User = get_user_model()
password = make_password("storm-password")  # one hash for all: hashing is not what is measured
names = [f"storm-{n:05d}" for n in range(args.users)]
existing = set(User.objects.filter(username__in=names).values_list("username", flat=True))
User.objects.bulk_create(
    [User(username=name, role=Role.OPERATOR, password=password) for name in names if name not in existing]
)
users = list(User.objects.filter(username__in=names).order_by("username"))
args.out.write_text("\n".join(str(AccessToken.for_user(users[n % len(users)])) for n in range(args.count)) + "\n")
print(f"{len(users)} users, {args.count} tokens")
