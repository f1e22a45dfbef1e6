"""Write the service's OpenAPI document to clients/typescript/openapi.json (the client's source).

`make client` runs this and regenerates the TypeScript types from it; the test suite fails when
the committed document or types differ from what the code produces.
"""

import json
import sys
from pathlib import Path

from app.config import Settings
from app.main import create_app

TARGET = Path(__file__).resolve().parents[1] / "clients" / "typescript" / "openapi.json"


def openapi_json() -> str:
    app = create_app(Settings(_env_file=None))  # type: ignore[call-arg]
    return json.dumps(app.openapi(), indent=2, sort_keys=True) + "\n"


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else TARGET
    target.write_text(openapi_json())
    print(f"wrote {target}")
