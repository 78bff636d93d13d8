"""GET /docs/schema/: the OpenAPI document (api/openapi.py), built once
per process.

Invariant: after the first request of a format, serving the document builds
and renders nothing: every request of that format gets the same bytes, and
the cache holds at most one entry per renderer class of the view (four)."""

from __future__ import annotations

import threading
from typing import Any, ClassVar

from django.http import HttpResponse
from drf_spectacular.utils import extend_schema
from drf_spectacular.views import SCHEMA_KWARGS, SpectacularAPIView


class SchemaView(SpectacularAPIView):
    """GET /docs/schema/: the document, built once per process and rendered
    once per format (it only changes with the code), instead of on every
    request (about 0.2 s of CPU each, for anyone: the path is public). Every
    request of a format gets the same bytes.

    The document is built without the request (anonymous, public, English,
    no `?version=`/`?lang=` variants): those are all it ever served, and a
    key per client-chosen value would let the cache grow without end."""

    _rendered: ClassVar[dict[type, bytes]] = {}
    _document: ClassVar[dict[str, Any] | None] = None
    _lock = threading.Lock()

    @extend_schema(**SCHEMA_KWARGS)  # as the parent's: not in the document (SERVE_INCLUDE_SCHEMA)
    def get(self, request, *args, **kwargs):
        renderer = request.accepted_renderer
        body = self.rendered(type(renderer))
        content_type = renderer.media_type + (f"; charset={renderer.charset}" if renderer.charset else "")
        response = HttpResponse(body, content_type=content_type)
        response["Content-Disposition"] = f'inline; filename="{self._get_filename(request, None)}"'
        return response

    @classmethod
    def document(cls) -> dict[str, Any]:
        with cls._lock:
            if cls._document is None:
                generator = cls.generator_class(urlconf=cls.urlconf, api_version=None, patterns=cls.patterns)
                cls._document = generator.get_schema(request=None, public=True)
            return cls._document

    @classmethod
    def rendered(cls, renderer_class: type) -> bytes:
        document = cls.document()
        with cls._lock:
            if renderer_class not in cls._rendered:
                renderer = renderer_class()
                cls._rendered[renderer_class] = renderer.render(document, renderer.media_type, {})
            return cls._rendered[renderer_class]
