"""The REST API's plumbing shared by every app: JSON parsing that keeps money
exact, the renderer, the one exception handler that writes the contract's
error bodies (rest.py), and the OpenAPI document behind /docs/ (openapi.py,
schema_view.py).

It may import the apps' public pieces it renders (orders' exceptions,
representations and schemas, users' authentication); config/ names it in the
settings and URLs, and no app's models or services import it back (views do,
for the renderer and the error serializers)."""
