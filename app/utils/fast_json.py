"""A route class that parses JSON bodies with pydantic-core's Rust parser.

FastAPI decodes bodies with the stdlib `json.loads`; on a 7 MB at-risk payload that is about
100 ms of a 200 ms request on our 2-core machine, and `pydantic_core.from_json` does the same in
about half (bench/service_speed.py). Invalid JSON still ends as FastAPI's 422 `json_invalid`.
"""

import json
from collections.abc import Callable, Coroutine
from typing import Any

import pydantic_core
from fastapi import Request, Response
from fastapi.routing import APIRoute


class FastJSONRequest(Request):
    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            body = await self.body()
            try:
                self._json = pydantic_core.from_json(body)
            except ValueError as exc:
                # FastAPI turns JSONDecodeError into its 422; keep that contract
                raise json.JSONDecodeError(str(exc), body.decode("utf-8", "replace"), 0) from exc
        return self._json


class FastJSONRoute(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def fast_json_handler(request: Request) -> Response:
            return await handler(FastJSONRequest(request.scope, request.receive))

        return fast_json_handler
