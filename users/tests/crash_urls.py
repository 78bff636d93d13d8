"""The project's URLs plus one API view that crashes, to see the 500 a
client gets (handlers come from config.urls)."""

from django.urls import path

from config.urls import handler400, handler403, handler404, handler500, urlpatterns  # noqa: F401


def crash(request):
    raise RuntimeError("a bug")


urlpatterns = [path("v1/crash", crash), *urlpatterns]
