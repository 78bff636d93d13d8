"""Append COUNT events of about SIZE bytes to a channel's event log, through
django-eventstream's send_event (DjangoModelStorage), as the project does.
Prints the channel's head id. Used to give the replay benchmark 1,000
stored events to read back.

    DATABASE_URL=... python bench/seed_events.py --channel printer --count 1000 --size 1024
"""

import argparse
import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from django_eventstream import send_event  # noqa: E402
from django_eventstream.models import EventCounter  # noqa: E402

parser = argparse.ArgumentParser()
parser.add_argument("--channel", default="printer")
parser.add_argument("--count", type=int, default=1000)
parser.add_argument("--size", type=int, default=1024)
args = parser.parse_args()

base = len(json.dumps({"seq": 0, "pad": ""}))
for seq in range(1, args.count + 1):
    send_event(args.channel, "confirmed-order", {"seq": seq, "pad": "x" * max(0, args.size - base)})
print(EventCounter.objects.get(name=args.channel).value)
