"""JSON for errors that never reach a DRF view (an unknown URL, a crash)."""

from django.http import JsonResponse


def not_found(request, exception=None):
    return JsonResponse({"message": "Not found"}, status=404)


def server_error(request):
    return JsonResponse({"message": "Internal server error"}, status=500)
