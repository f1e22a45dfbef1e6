"""Sales blocks (columns of sales values) cut by product and stored as bytes, for batch chunks.

A batch's input is stored with its job, one entry per chunk of products, and read back by
whichever worker runs the chunk. Columns are stored as numpy's `.npz` (no pickle: loading never
runs code) next to the chunk's request options as JSON; this is about half the size of the same
values as JSON rows and loads without parsing a row.
"""

import io
import json
from collections.abc import Sequence

import numpy as np

from app.schemas.common import DataWarning
from app.schemas.sales import SalesBlock
from app.utils.sales_frame import SalesColumns


def block_of(sales: SalesColumns, product_ids: Sequence[str], warnings: Sequence[DataWarning] = ()) -> SalesBlock:
    """The values of `product_ids` (in the order they were sent), as a block coded by that list; `warnings`: what
    reading the request's upload did (they travel with the block into the chunk's answer)."""
    assert sales.revenue is not None, "blocks carry revenue: build the columns with_revenue"
    code_of = {str(name): code for code, name in enumerate(sales.product_ids)}
    local = np.full(len(sales.product_ids), -1, dtype=np.int64)
    local[[code_of[p] for p in product_ids]] = np.arange(len(product_ids))
    kept = local[sales.product] >= 0
    return SalesBlock(list(product_ids), local[sales.product[kept]], sales.day[kept], sales.qty[kept],
                      sales.revenue[kept], tuple(warnings))


def encode(options: bytes, block: SalesBlock) -> bytes:
    """A chunk's stored input: its request options (JSON bytes) and its sales block."""
    buffer = io.BytesIO()
    np.savez(buffer, options=np.frombuffer(options, dtype=np.uint8), product_ids=np.array(block.product_ids, dtype=str),
             product=block.product.astype(np.int32), day=block.day.astype(np.int32), qty=block.qty,
             revenue=block.revenue, warnings=np.frombuffer(
                 json.dumps([w.model_dump(mode="json") for w in block.warnings]).encode(), dtype=np.uint8))
    return buffer.getvalue()


def decode(raw: bytes) -> tuple[bytes, SalesBlock]:
    """The inverse of `encode`; refuses anything that would need unpickling."""
    with np.load(io.BytesIO(raw), allow_pickle=False) as stored:
        # a block stored by 0.3 (a job accepted before an upgrade) has no warnings
        raw = stored["warnings"].tobytes() if "warnings" in stored.files else b"[]"
        warnings = tuple(DataWarning.model_validate(w) for w in json.loads(raw or b"[]"))
        block = SalesBlock([str(p) for p in stored["product_ids"]], stored["product"].astype(np.int64),
                           stored["day"].astype(np.int64), stored["qty"], stored["revenue"], warnings)
        return stored["options"].tobytes(), block


def join(blocks: Sequence[SalesBlock]) -> SalesBlock:
    """Blocks of different products as one (product codes shifted to index the joined list)."""
    offsets = np.cumsum([0] + [len(b.product_ids) for b in blocks])
    return SalesBlock([p for b in blocks for p in b.product_ids],
                      np.concatenate([b.product + offset for b, offset in zip(blocks, offsets[:-1], strict=True)]),
                      np.concatenate([b.day for b in blocks]), np.concatenate([b.qty for b in blocks]),
                      np.concatenate([b.revenue for b in blocks]), blocks[0].warnings if blocks else ())
