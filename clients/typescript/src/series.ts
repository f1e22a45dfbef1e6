/**
 * The series format of sales: one row per product holding a value per day (or per week), instead
 * of one row per product and day. Accepted wherever `sales` rows are (at-risk, forecast,
 * forecast/batch, reorder, anomalies, insights, promotions), alone or next to `sales`.
 *
 *   sales:  [{ product_id: "p001", date: "2025-01-01", qty: 3, revenue: 9 }, ...]
 *   series: [{ product_id: "p001", start: "2025-01-01", qty: [3, 0, 5, null, 2], revenue: [9, 0, 15, null, 6] }]
 *
 * `null` is a day without a record (exactly like a missing row). `toSeries` turns rows into series
 * the way the service reads rows: rows of one product and day are separate sales (two customers,
 * two point-of-sale lines) and are summed, identical ones too. With `duplicates: "drop"` (the
 * request field of the same name) rows identical in product, date, qty and revenue are one daily
 * total sent twice and count once; distinct rows of a product and day are still summed.
 */

/** One sales row, as in a request's `sales` (negative qty = returns). */
export type SaleRow = {
  product_id: string;
  /** ISO date (`2025-11-20`) or ISO datetime (`2025-11-20T00:00:00Z`); the calendar date written in it counts. */
  date: string;
  qty: number;
  revenue?: number | null;
};

/** One product's sales from `start`, one value per day (per week with `frequency: "weekly"`). */
export type SaleSeries = {
  product_id: string;
  /** ISO date of the first value. */
  start: string;
  /** Units per period; `null` = no record that period. */
  qty: (number | null)[];
  /** Same length as `qty`; `null` where there is no revenue (always where `qty` is null). */
  revenue?: (number | null)[];
};

export type SeriesOptions = {
  /** `weekly`: one value every 7 days from `start` (the request's `frequency`). Default `daily`. */
  frequency?: "daily" | "weekly";
  /**
   * Rows of one product and day: `sum` (default) adds them all, identical ones too, as the service
   * does by default; `drop` counts rows identical in product, date, qty and revenue once, then sums
   * the rest, as the service does with `"duplicates": "drop"` for `sales` rows.
   */
  duplicates?: "sum" | "drop";
};

const WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"];

/** Monday = 0 of day number `day` (1970-01-01, day 0, was a Thursday). */
const weekday = (day: number): number => (((day + 3) % 7) + 7) % 7;

const digit = (text: string, at: number): number => {
  const code = text.charCodeAt(at) - 48;
  return code >= 0 && code <= 9 ? code : NaN;
};

/**
 * Days since 1970-01-01 of the calendar date written in `text` (its first 10 characters), or NaN
 * when it is not `YYYY-MM-DD` optionally followed by a time (`T`, `t`, ` ` or `_` separator).
 */
function dayNumber(text: string): number {
  if (typeof text !== "string" || text.length < 10 || text.charCodeAt(4) !== 45 || text.charCodeAt(7) !== 45) return NaN;
  if (text.length > 10 && !"Tt _".includes(text[10])) return NaN;
  const year = digit(text, 0) * 1000 + digit(text, 1) * 100 + digit(text, 2) * 10 + digit(text, 3);
  const month = digit(text, 5) * 10 + digit(text, 6);
  const day = digit(text, 8) * 10 + digit(text, 9);
  if (!(year >= 1 && month >= 1 && month <= 12 && day >= 1)) return NaN;
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  const monthDays = month === 2 ? (leap ? 29 : 28) : month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
  if (day > monthDays) return NaN;
  // days from civil (H. Hinnant): March-based years so the leap day ends the year
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yearOfEra = y - era * 400;
  const dayOfYear = Math.floor((153 * (month > 2 ? month - 3 : month + 9) + 2) / 5) + day - 1;
  const dayOfEra = yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear;
  return era * 146097 + dayOfEra - 719468;
}

/** ISO date (`YYYY-MM-DD`) of day number `day`. */
function isoDate(day: number): string {
  // civil from days (H. Hinnant)
  const z = day + 719468;
  const era = Math.floor(z / 146097);
  const dayOfEra = z - era * 146097;
  const yearOfEra = Math.floor((dayOfEra - Math.floor(dayOfEra / 1460) + Math.floor(dayOfEra / 36524) - Math.floor(dayOfEra / 146096)) / 365);
  const dayOfYear = dayOfEra - (365 * yearOfEra + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100));
  const mp = Math.floor((5 * dayOfYear + 2) / 153);
  const d = dayOfYear - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp < 10 ? mp + 3 : mp - 9;
  const y = yearOfEra + era * 400 + (m <= 2 ? 1 : 0);
  return `${String(y).padStart(4, "0")}-${m < 10 ? "0" : ""}${m}-${d < 10 ? "0" : ""}${d}`;
}

const describe = (row: SaleRow, index: number): string =>
  `row ${index} (product_id ${JSON.stringify(row?.product_id)}, date ${JSON.stringify(row?.date)})`;

/**
 * Sales rows -> one series per product, in order of first appearance, from the product's first
 * date to its last, `null` on days (weeks) without rows.
 *
 * Rows of one product and day are summed (qty and revenue), identical ones too. With
 * `duplicates: "drop"` rows identical in product, date, qty and revenue count once (absent and
 * null revenue are the same), and the distinct ones are summed.
 * `revenue` is present only for products with at least one row carrying revenue; a day's revenue
 * is the sum of its rows that carry one, `null` when none does.
 * Weekly: every date of a product must fall on the weekday of its first date (else an Error naming the row).
 */
export function toSeries(rows: SaleRow[], options: SeriesOptions = {}): SaleSeries[] {
  const step = options.frequency === "weekly" ? 7 : 1;
  const duplicates = options.duplicates ?? "sum";
  if (duplicates !== "sum" && duplicates !== "drop") {
    throw new Error(`toSeries: duplicates is ${JSON.stringify(duplicates)}, not "sum" or "drop"`);
  }
  const drop = duplicates === "drop";
  const n = rows.length;
  const productOf = new Int32Array(n);
  const dayOf = new Int32Array(n);
  const codes = new Map<string, number>();
  const days = new Map<string, number>();
  const productIds: string[] = [];
  const first: number[] = [];
  const last: number[] = [];
  const withRevenue: boolean[] = [];

  // pass 1: product codes, day numbers, each product's date range, which products carry revenue
  for (let i = 0; i < n; i++) {
    const row = rows[i];
    const date = row?.date;
    let day = days.get(date);
    if (day === undefined) {
      day = dayNumber(date);
      if (Number.isNaN(day)) throw new Error(`toSeries: ${describe(row, i)}: date is not an ISO date (YYYY-MM-DD)`);
      days.set(date, day);
    }
    const qty = row.qty;
    if (typeof qty !== "number" || !Number.isFinite(qty)) throw new Error(`toSeries: ${describe(row, i)}: qty is not a finite number`);
    const revenue = row.revenue;
    const hasRevenue = revenue !== undefined && revenue !== null;
    if (hasRevenue && (typeof revenue !== "number" || !Number.isFinite(revenue))) {
      throw new Error(`toSeries: ${describe(row, i)}: revenue is not a finite number or null`);
    }
    const productId = row.product_id;
    let code = codes.get(productId);
    if (code === undefined) {
      if (typeof productId !== "string") throw new Error(`toSeries: ${describe(row, i)}: product_id is not a string`);
      code = productIds.length;
      codes.set(productId, code);
      productIds.push(productId);
      first.push(day);
      last.push(day);
      withRevenue.push(hasRevenue);
    } else {
      if (day < first[code]) first[code] = day;
      else if (day > last[code]) last[code] = day;
      if (hasRevenue) withRevenue[code] = true;
    }
    productOf[i] = code;
    dayOf[i] = day;
  }

  // each product's cells in one flat grid: product p owns [base[p], base[p] + length[p])
  const nProducts = productIds.length;
  const base = new Float64Array(nProducts + 1);
  let anyRevenue = false;
  for (let p = 0; p < nProducts; p++) {
    base[p + 1] = base[p] + Math.floor((last[p] - first[p]) / step) + 1;
    anyRevenue ||= withRevenue[p];
  }
  const cells = base[nProducts];
  const qtys = new Float64Array(cells);
  const firstRow = new Int32Array(cells).fill(-1);
  const revenues = anyRevenue ? new Float64Array(cells) : undefined;
  const revenueSet = anyRevenue ? new Uint8Array(cells) : undefined;
  // duplicates "drop", cells with more than one row: the (qty, revenue) keys already counted there
  let seen: Map<number, Set<string>> | undefined;
  const key = (row: SaleRow): string => `${row.qty}|${row.revenue ?? ""}`;

  // pass 2: sum each cell's rows (its distinct rows with duplicates "drop")
  for (let i = 0; i < n; i++) {
    const p = productOf[i];
    const offset = dayOf[i] - first[p];
    if (offset % step !== 0) {
      throw new Error(`toSeries: ${describe(rows[i], i)} is a ${WEEKDAYS[weekday(dayOf[i])]}, but the product's first date ` +
        `${isoDate(first[p])} is a ${WEEKDAYS[weekday(first[p])]}: a weekly series needs every date of a product on one weekday`);
    }
    const cell = base[p] + offset / step;
    const row = rows[i];
    const earlier = firstRow[cell];
    if (earlier === -1) {
      firstRow[cell] = i;
    } else if (drop) {
      seen ??= new Map();
      let keys = seen.get(cell);
      if (keys === undefined) {
        keys = new Set([key(rows[earlier])]);
        seen.set(cell, keys);
      }
      const own = key(row);
      if (keys.has(own)) continue; // the same row sent twice
      keys.add(own);
    }
    qtys[cell] += row.qty;
    const revenue = row.revenue;
    if (revenues && revenue !== undefined && revenue !== null) {
      revenues[cell] += revenue;
      revenueSet![cell] = 1;
    }
  }

  const out: SaleSeries[] = new Array(nProducts);
  for (let p = 0; p < nProducts; p++) {
    const from = base[p];
    const to = base[p + 1];
    // sized up front: about twice as fast as push for long series
    const qty: (number | null)[] = new Array(to - from);
    for (let cell = from; cell < to; cell++) qty[cell - from] = firstRow[cell] === -1 ? null : qtys[cell];
    const series: SaleSeries = { product_id: productIds[p], start: isoDate(first[p]), qty };
    if (withRevenue[p]) {
      const revenue: (number | null)[] = new Array(to - from);
      for (let cell = from; cell < to; cell++) revenue[cell - from] = revenueSet![cell] ? revenues![cell] : null;
      series.revenue = revenue;
    }
    out[p] = series;
  }
  return out;
}

/**
 * Series -> sales rows, one per non-null cell, in series order then date order (dates as
 * `YYYY-MM-DD`; `revenue` only where the series has a non-null one). The inverse of `toSeries`.
 */
export function fromSeries(series: SaleSeries[], options: SeriesOptions = {}): SaleRow[] {
  const step = options.frequency === "weekly" ? 7 : 1;
  const rows: SaleRow[] = [];
  series.forEach((s, index) => {
    const start = dayNumber(s.start);
    const name = `series ${index} (product_id ${JSON.stringify(s.product_id)})`;
    if (Number.isNaN(start)) throw new Error(`fromSeries: ${name}: start is not an ISO date (YYYY-MM-DD)`);
    const { qty, revenue } = s;
    if (revenue && revenue.length !== qty.length) {
      throw new Error(`fromSeries: ${name}: revenue has ${revenue.length} values, qty ${qty.length}`);
    }
    for (let k = 0; k < qty.length; k++) {
      const q = qty[k];
      const r = revenue?.[k] ?? null;
      if (q === null) {
        if (r !== null) throw new Error(`fromSeries: ${name}: value ${k} has revenue but no qty`);
        continue;
      }
      const row: SaleRow = { product_id: s.product_id, date: isoDate(start + k * step), qty: q };
      if (r !== null) row.revenue = r;
      rows.push(row);
    }
  });
  return rows;
}
