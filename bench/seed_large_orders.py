"""Create COUNT large orders (LINES lines each, 30 by default, a 250-character note on
every line, a food with a 500-character description and 12 ingredients),
through the services, as the project does: a page of 100 of them is about
10 MB. Used by bench/unread_responses.py.

    DATABASE_URL=... python bench/seed_large_orders.py --count 100 --lines 30
"""

import argparse
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from orders.models import Food, Ingredient  # noqa: E402
from orders.services import LineInput, order_create  # noqa: E402

parser = argparse.ArgumentParser()
parser.add_argument("--count", type=int, default=100)
parser.add_argument("--lines", type=int, default=30)
args = parser.parse_args()

food = Food.objects.filter(available=True, category__available=True).order_by("name").first()
food.description = ("Tomato, mozzarella, basil and olive oil. " * 13)[:500]
food.save()
food.ingredients.add(*(Ingredient.objects.create(name=f"Bench ingredient {n} " + "y" * 80) for n in range(12)))
note = ("No onions, extra sauce on the side please. " * 6)[:250]
lines = [LineInput(food_id=food.id, quantity=1, notes=note) for _ in range(args.lines)]
for n in range(args.count):
    order_create(table="Bench", customer=f"Bench guest {n}", lines=lines)
print(args.count)
