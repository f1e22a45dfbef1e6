"""Make an API key and the API_KEYS entry that stores only its SHA-256.

    python -m scripts.hash_api_key node-backend shop_1 shop_2     # prints the key once, and the entry
    python -m scripts.hash_api_key ops '*'                        # a key for every shop
"""

import json
import secrets
import sys

from app.utils.access import hash_key


def main(name: str, shops: list[str]) -> None:
    key = secrets.token_urlsafe(32)
    print(f"API key for {name} (give it to the caller; it is not stored anywhere): {key}")
    print("API_KEYS entry:", json.dumps({"name": name, "sha256": hash_key(key), "shops": shops or ["*"]}))


if __name__ == "__main__":
    if len(sys.argv) < 2:
        raise SystemExit(__doc__)
    main(sys.argv[1], sys.argv[2:])
