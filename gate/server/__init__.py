"""``gate serve``: the gate as an HTTP service (Starlette app served by uvicorn workers).

Nothing here is imported by ``gate check``; this package imports starlette, uvicorn and
the decision log's database layer, each where it is needed.
"""
