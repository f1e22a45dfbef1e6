/**
 * Unit test of the series format helpers (no service needed):
 *   npm run build && node --test dist/clients/typescript/test/series.test.js
 */
import assert from "node:assert/strict";
import { test } from "node:test";

import { fromSeries, toSeries, type SaleRow, type SaleSeries } from "../src/client.js";

/** ISO date `days` after `start`, through Date (an independent check of the series' own date arithmetic). */
const dateAfter = (start: string, days: number): string => {
  const date = new Date(0);
  date.setUTCFullYear(+start.slice(0, 4), +start.slice(5, 7) - 1, +start.slice(8, 10) + days); // Date.UTC reads year 1 as 1901
  return date.toISOString().slice(0, 10);
};

test("round trip: rows -> series -> rows", () => {
  const rows: SaleRow[] = [
    { product_id: "p1", date: "2024-12-30", qty: 3, revenue: 9 },
    { product_id: "p1", date: "2024-12-31", qty: 0, revenue: 0 },
    { product_id: "p1", date: "2025-01-02", qty: -1, revenue: -3 },
    { product_id: "p2", date: "2024-02-28", qty: 1.5 },
    { product_id: "p2", date: "2024-02-29", qty: 2 },
    { product_id: "p2", date: "2024-03-01", qty: 4 },
  ];
  const series = toSeries(rows);
  assert.deepEqual(series, [
    { product_id: "p1", start: "2024-12-30", qty: [3, 0, null, -1], revenue: [9, 0, null, -3] },
    { product_id: "p2", start: "2024-02-28", qty: [1.5, 2, 4] },
  ]);
  assert.deepEqual(fromSeries(series), rows);
  assert.deepEqual(toSeries(fromSeries(series)), series);
  assert.deepEqual(toSeries([]), []);
});

test("days without rows are null; one row gives a one-value series", () => {
  const [series] = toSeries([
    { product_id: "p", date: "2025-01-01", qty: 1 },
    { product_id: "p", date: "2025-01-05", qty: 2 },
  ]);
  assert.deepEqual(series, { product_id: "p", start: "2025-01-01", qty: [1, null, null, null, 2] });
  assert.deepEqual(toSeries([{ product_id: "q", date: "2025-03-01", qty: 0 }]), [{ product_id: "q", start: "2025-03-01", qty: [0] }]);
});

test("date arithmetic agrees with Date across month ends, leap days and centuries", () => {
  for (const start of ["1999-12-25", "2000-02-27", "2023-02-27", "2100-02-27", "1900-02-27", "0001-01-01", "9999-12-01"]) {
    const span = start === "9999-12-01" ? 31 : 800;
    const rows: SaleRow[] = [{ product_id: "p", date: start, qty: 1 }, { product_id: "p", date: dateAfter(start, span - 1), qty: 2 }];
    const [series] = toSeries(rows);
    assert.equal(series.qty.length, span, start);
    assert.equal(series.start, start);
    const every = fromSeries([{ product_id: "p", start, qty: Array.from({ length: span }, () => 1) }]);
    assert.deepEqual(every.map((r) => r.date), Array.from({ length: span }, (_, k) => dateAfter(start, k)), start);
  }
});

test("rows of one product and day are summed by default, identical ones too (two customers, two lines)", () => {
  const row = { product_id: "p", date: "2025-01-01", qty: 3, revenue: 9 };
  const three = [{ product_id: "p", start: "2025-01-01", qty: [9], revenue: [27] }];
  assert.deepEqual(toSeries([row, { ...row }, { ...row }]), three);
  assert.deepEqual(toSeries([row, { ...row }, { ...row }], { duplicates: "sum" }), three);
  // the same calendar date written as a datetime is the same date; a row without revenue adds none
  assert.deepEqual(toSeries([
    { product_id: "p", date: "2025-01-01", qty: 2 },
    { product_id: "p", date: "2025-01-01T10:00:00Z", qty: 2, revenue: null },
    { product_id: "p", date: "2025-01-02", qty: 1 },
  ]), [{ product_id: "p", start: "2025-01-01", qty: [4, 1] }]);
  const series = toSeries([
    { product_id: "p", date: "2025-01-01", qty: 3, revenue: 9 },
    { product_id: "p", date: "2025-01-01", qty: 2, revenue: 6 },
    { product_id: "p", date: "2025-01-01", qty: 3, revenue: 9 }, // another customer, same basket
    { product_id: "p", date: "2025-01-01", qty: 3, revenue: 10 },
    { product_id: "p", date: "2025-01-01", qty: -1, revenue: -3 }, // a return, netted
    { product_id: "p", date: "2025-01-02", qty: 1, revenue: 3 },
    { product_id: "p", date: "2025-01-02", qty: 1 }, // no revenue: adds qty only
    { product_id: "q", date: "2025-01-01", qty: 3, revenue: 9 }, // another product: its own series
  ]);
  assert.deepEqual(series, [
    { product_id: "p", start: "2025-01-01", qty: [10, 2], revenue: [31, 3] },
    { product_id: "q", start: "2025-01-01", qty: [3], revenue: [9] },
  ]);
  // weekly reads the same way
  assert.deepEqual(toSeries([row, { ...row }], { frequency: "weekly" }), [{ product_id: "p", start: "2025-01-01", qty: [6], revenue: [18] }]);
  assert.throws(() => toSeries([row], { duplicates: "keep" as "sum" }), /duplicates is "keep", not "sum" or "drop"/);
});

test("duplicates drop: rows identical in product, date, qty and revenue count once, distinct ones are summed", () => {
  const drop = { duplicates: "drop" } as const;
  const row = { product_id: "p", date: "2025-01-01", qty: 3, revenue: 9 };
  assert.deepEqual(toSeries([row, { ...row }, { ...row }], drop), [{ product_id: "p", start: "2025-01-01", qty: [3], revenue: [9] }]);
  // the same calendar date written as a datetime is the same date; absent and null revenue are the same
  assert.deepEqual(toSeries([
    { product_id: "p", date: "2025-01-01", qty: 2 },
    { product_id: "p", date: "2025-01-01T10:00:00Z", qty: 2, revenue: null },
    { product_id: "p", date: "2025-01-02", qty: 1 },
  ], drop), [{ product_id: "p", start: "2025-01-01", qty: [2, 1] }]);
  // other products' identical values on the same day are not duplicates
  assert.deepEqual(toSeries([row, { ...row, product_id: "q" }], drop).map((s) => s.qty), [[3], [3]]);
  const series = toSeries([
    { product_id: "p", date: "2025-01-01", qty: 3, revenue: 9 },
    { product_id: "p", date: "2025-01-01", qty: 2, revenue: 6 },
    { product_id: "p", date: "2025-01-01", qty: 3, revenue: 9 }, // sent twice
    { product_id: "p", date: "2025-01-01", qty: 3, revenue: 10 }, // same qty, other revenue: another sale
    { product_id: "p", date: "2025-01-01", qty: -1, revenue: -3 }, // a return, netted
    { product_id: "p", date: "2025-01-02", qty: 1, revenue: 3 },
    { product_id: "p", date: "2025-01-02", qty: 1 }, // no revenue: another sale
  ], drop);
  assert.deepEqual(series, [{ product_id: "p", start: "2025-01-01", qty: [7, 2], revenue: [22, 3] }]);
  assert.deepEqual(toSeries([row, { ...row }], { frequency: "weekly", duplicates: "drop" }), [{ product_id: "p", start: "2025-01-01", qty: [3], revenue: [9] }]);
});

test("revenue only for products that carry it, null on days whose rows carry none", () => {
  const series = toSeries([
    { product_id: "with", date: "2025-01-01", qty: 1 },
    { product_id: "without", date: "2025-01-01", qty: 1, revenue: null },
    { product_id: "with", date: "2025-01-02", qty: 2, revenue: 0 },
    { product_id: "with", date: "2025-01-04", qty: 4, revenue: 8 },
    { product_id: "without", date: "2025-01-03", qty: 3 },
  ]);
  assert.deepEqual(series, [
    { product_id: "with", start: "2025-01-01", qty: [1, 2, null, 4], revenue: [null, 0, null, 8] },
    { product_id: "without", start: "2025-01-01", qty: [1, null, 3] },
  ]);
  assert.ok(!("revenue" in series[1]));
  assert.deepEqual(fromSeries(series), [
    { product_id: "with", date: "2025-01-01", qty: 1 },
    { product_id: "with", date: "2025-01-02", qty: 2, revenue: 0 },
    { product_id: "with", date: "2025-01-04", qty: 4, revenue: 8 },
    { product_id: "without", date: "2025-01-01", qty: 1 },
    { product_id: "without", date: "2025-01-03", qty: 3 },
  ]);
});

test("weekly: one value per 7 days from the first date", () => {
  const rows: SaleRow[] = [
    { product_id: "mon", date: "2025-01-06", qty: 1, revenue: 2 },
    { product_id: "mon", date: "2025-01-27", qty: 4, revenue: 8 },
    { product_id: "mon", date: "2025-01-13", qty: 2, revenue: 4 },
    { product_id: "sun", date: "2024-12-29", qty: 5 }, // another product may use another weekday
    { product_id: "sun", date: "2025-01-05T23:00:00-05:00", qty: 6 },
  ];
  const series = toSeries(rows, { frequency: "weekly" });
  assert.deepEqual(series, [
    { product_id: "mon", start: "2025-01-06", qty: [1, 2, null, 4], revenue: [2, 4, null, 8] },
    { product_id: "sun", start: "2024-12-29", qty: [5, 6] },
  ]);
  assert.deepEqual(fromSeries(series, { frequency: "weekly" }).map((r) => r.date),
    ["2025-01-06", "2025-01-13", "2025-01-27", "2024-12-29", "2025-01-05"]);
  assert.deepEqual(toSeries(fromSeries(series, { frequency: "weekly" }), { frequency: "weekly" }), series);
  // daily reading of the same rows: every day in between
  assert.equal(toSeries(rows)[0].qty.length, 22);
});

test("weekly: a date on another weekday than the product's first date is an error naming the row", () => {
  const rows: SaleRow[] = [
    { product_id: "p", date: "2025-01-13", qty: 1 },
    { product_id: "q", date: "2025-01-01", qty: 1 },
    { product_id: "p", date: "2025-01-06", qty: 1 },
    { product_id: "p", date: "2025-01-15", qty: 1 },
  ];
  assert.throws(() => toSeries(rows, { frequency: "weekly" }),
    /row 3 \(product_id "p", date "2025-01-15"\) is a Wednesday, but the product's first date 2025-01-06 is a Monday/);
  assert.equal(toSeries(rows)[0].qty.length, 10); // daily: fine
});

test("products in order of first appearance, rows in any order", () => {
  const series = toSeries([
    { product_id: "b", date: "2025-01-03", qty: 3 },
    { product_id: "a", date: "2025-01-02", qty: 2 },
    { product_id: "b", date: "2025-01-01", qty: 1 },
    { product_id: "c", date: "2025-01-05", qty: 5 },
    { product_id: "a", date: "2025-01-01", qty: 1 },
    { product_id: "b", date: "2025-01-02", qty: 2 },
  ]);
  assert.deepEqual(series.map((s) => [s.product_id, s.start, s.qty]), [
    ["b", "2025-01-01", [1, 2, 3]],
    ["a", "2025-01-01", [1, 2]],
    ["c", "2025-01-05", [5]],
  ]);
});

test("a datetime counts as the calendar date written in it, whatever its zone", () => {
  const series = toSeries([
    { product_id: "p", date: "2025-01-01T23:30:00-05:00", qty: 1 }, // 2025-01-02 in UTC
    { product_id: "p", date: "2025-01-03T00:30:00+14:00", qty: 3 }, // 2025-01-02 in UTC
    { product_id: "p", date: "2025-01-02 12:00:00Z", qty: 2 },
    { product_id: "p", date: "2025-01-04t00:00:00.123456Z", qty: 4 },
  ]);
  assert.deepEqual(series, [{ product_id: "p", start: "2025-01-01", qty: [1, 2, 3, 4] }]);
});

test("invalid input is an error naming the row", () => {
  const bad = (row: Partial<SaleRow> | Record<string, unknown>, pattern: RegExp): void =>
    assert.throws(() => toSeries([{ product_id: "ok", date: "2025-01-01", qty: 1 }, row as SaleRow]), pattern);
  bad({ product_id: "p", date: "2025-02-29", qty: 1 }, /row 1 .*date "2025-02-29".*not an ISO date/);
  bad({ product_id: "p", date: "2025-13-01", qty: 1 }, /not an ISO date/);
  bad({ product_id: "p", date: "01/02/2025", qty: 1 }, /not an ISO date/);
  bad({ product_id: "p", date: "2025-01-01X", qty: 1 }, /not an ISO date/);
  bad({ product_id: "p", qty: 1 }, /row 1 .*not an ISO date/);
  bad({ product_id: "p", date: "2025-01-01", qty: "1" }, /row 1 .*qty is not a finite number/);
  bad({ product_id: "p", date: "2025-01-01", qty: Number.NaN }, /qty is not a finite number/);
  bad({ product_id: "p", date: "2025-01-01", qty: 1, revenue: "2" }, /revenue is not a finite number/);
  bad({ product_id: 7, date: "2025-01-01", qty: 1 }, /product_id is not a string/);
});

test("fromSeries checks the series", () => {
  const series = (s: Partial<SaleSeries>): SaleSeries[] => [{ product_id: "p", start: "2025-01-01", qty: [1], ...s }];
  assert.throws(() => fromSeries(series({ revenue: [1, 2] })), /revenue has 2 values, qty 1/);
  assert.throws(() => fromSeries(series({ qty: [null], revenue: [1] })), /value 0 has revenue but no qty/);
  assert.throws(() => fromSeries(series({ start: "2025-1-1" })), /start is not an ISO date/);
  assert.deepEqual(fromSeries(series({ qty: [null, null] })), []);
});

test("speed: 1.6 million rows", (t) => {
  const products = 1000;
  const days = 1600;
  const start = "2021-01-01";
  const dates = Array.from({ length: days }, (_, k) => dateAfter(start, k));
  const rows: SaleRow[] = [];
  for (let d = 0; d < days; d++) {
    const [head, tail] = [dates[d].slice(0, 8), dates[d].slice(8)];
    for (let p = 0; p < products; p++) {
      const qty = (p * 7 + d * 13) % 11;
      // a fresh date string per row, as a parsed JSON payload has
      rows.push({ product_id: `p${p}`, date: `${head}${tail}`, qty, revenue: qty * 2.5 });
    }
  }
  assert.equal(rows.length, 1_600_000);
  for (let run = 1; run <= 3; run++) {
    const began = performance.now();
    const series = toSeries(rows);
    const ms = performance.now() - began;
    t.diagnostic(`toSeries of ${rows.length} rows (${products} products x ${days} days), run ${run}: ${ms.toFixed(0)} ms`);
    assert.equal(series.length, products);
    assert.equal(series[0].qty.length, days);
  }
  const rowsWeekly = rows.filter((_, i) => Math.floor(i / products) % 7 === 0);
  const began = performance.now();
  toSeries(rowsWeekly, { frequency: "weekly" });
  t.diagnostic(`toSeries weekly of ${rowsWeekly.length} rows: ${(performance.now() - began).toFixed(0)} ms`);
});
