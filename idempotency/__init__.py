"""Retry-safe writes under an Idempotency-Key header: the decorator for the
API's write views (`decorators.idempotent`) and the rows it keeps
(`models.IdempotentRequest`). It imports no other app of the project.
"""
