/**
 * Contract test: the typed client against a live SmartShelf service (SMARTSHELF_URL), every
 * operation of openapi.json called with the realistic payloads of examples/payloads (real
 * store-item sales), checking the fields a backend reads. Every request the client sends is
 * recorded; the last test fails when an operation of openapi.json (method and path) never got a
 * 2xx answer, so an endpoint added without a client method and a test here breaks it.
 * The payloads end on 2017-12-31: the client's `asOf` (the `as_of` it sends) is that
 * date, not the real one, else every forecast would start 9 years after the data.
 * `make test` starts the service and runs this.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { test } from "node:test";

import {
  SmartShelfClient, SmartShelfError, toSeries, utcToday, utcYesterday, type ForecastRequest, type TrainRequest,
} from "../src/client.js";

const base = process.env.SMARTSHELF_URL;
if (!base) throw new Error("set SMARTSHELF_URL to a running service, e.g. http://127.0.0.1:8000");

/** Every request sent: method, path (no query) and the status answered. */
const sent: { method: string; path: string; status: number }[] = [];
const recording: typeof fetch = async (input, init) => {
  const response = await fetch(input, init);
  const url = new URL(input instanceof Request ? input.url : String(input));
  sent.push({ method: (init?.method ?? "GET").toUpperCase(), path: url.pathname, status: response.status });
  return response;
};
/** A shop id of this run alone: the tests that start from "nothing stored yet" pass again on a long-lived service. */
const fresh = (name: string): string => `contract_${name}_${Date.now().toString(36)}`;
const payloads = resolve(process.cwd(), "../../examples/payloads"); // npm runs this in clients/typescript
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const payload = <T = any>(name: string): T => JSON.parse(readFileSync(resolve(payloads, `${name}.json`), "utf8")) as T;
/** The latest date of some sales rows. */
const lastDate = (rows: { date: string }[]): string => rows.map((row) => String(row.date).slice(0, 10)).sort().at(-1)!;
/** The payloads' last day of sales (2017-12-31): `as_of` for this test. */
const dataEnd = lastDate(payload("forecast-batch").sales);
const client = new SmartShelfClient(base, { fetch: recording, asOf: () => dataEnd });

test("health and readiness", async () => {
  assert.equal((await client.health()).status, "ok");
  assert.ok(["ready", "degraded"].includes((await client.ready()).status));
});

test("at-risk: scored products with one action each", async () => {
  const answer = await client.atRisk(payload("at-risk"));
  assert.ok(answer.at_risk.length > 0);
  for (const item of answer.at_risk) {
    assert.ok(item.score >= 0 && item.score <= 1);
    assert.ok(item.reasons.length > 0);
    assert.equal(typeof item.recommended_action.action_type, "string");
    assert.equal(typeof item.recommended_action.reasoning, "string");
  }
  assert.equal(answer.meta.total_products, 8);
});

test("series: the same at-risk and insights answers as rows", async () => {
  for (const [name, call] of [["at-risk", client.atRisk.bind(client)], ["insights", client.insights.bind(client)]] as const) {
    const rows = payload(name);
    const { sales, ...rest } = rows;
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const [byRows, bySeries] = await Promise.all([call(rows), call({ ...rest, series: toSeries(sales) } as any)]);
    assert.deepEqual(bySeries, byRows, name);
  }
});

test("forecast, latest, CSV and plot", async () => {
  const request = payload<ForecastRequest>("forecast");
  const answer = await client.forecast(request);
  assert.deepEqual(answer.forecasts.map((f) => f.product_id), ["p1", "p2", "p3"]);
  for (const forecast of answer.forecasts) {
    assert.equal(forecast.predictions.length, 14);
    for (const p of forecast.predictions) assert.ok(p.lower_ci <= p.predicted_qty && p.predicted_qty <= p.upper_ci && p.lower_ci >= 0);
    assert.ok(forecast.model_version.length > 0 && forecast.drivers.length > 0);
  }
  const latest = await client.latestForecast("store_2", "p1");
  assert.equal(latest.model_version, answer.forecasts[0].model_version);
  const csv = (await client.forecastCsv(request)).trim().split("\n");
  assert.equal(csv[0], "product_id,date,predicted_qty,lower_ci,upper_ci,method,model_version");
  assert.equal(csv.length, 1 + 3 * 14);
  const svg = await client.forecastPlot("store_2", "p1");
  assert.ok(svg.startsWith("<svg") && svg.includes(latest.method));
});

test("as_of: yesterday's date when the body has none, the forecast starts the day after; null sends none", async () => {
  const request = { ...payload<ForecastRequest>("forecast"), shop_id: fresh("as_of") };
  assert.equal(request.as_of, undefined);
  assert.equal(lastDate(request.sales ?? []), "2017-12-31");
  const bodies: { as_of?: string | null }[] = [];
  const capturing: typeof fetch = async (input, init) => {
    bodies.push(JSON.parse(String(init?.body)));
    return recording(input, init);
  };
  const firstDates = (answer: { forecasts: { predictions: { date: string }[] }[] }): string[] =>
    [...new Set(answer.forecasts.map((f) => f.predictions[0].date))];

  // as_of three days after the data: the history runs on to it with zero sales, the forecast starts the day after.
  const later = new SmartShelfClient(base, { fetch: capturing, asOf: () => "2018-01-03" });
  const fromToday = await later.forecast(request);
  assert.equal(bodies.at(-1)?.as_of, "2018-01-03");
  assert.deepEqual(firstDates(fromToday), ["2018-01-04"]);
  assert.ok(fromToday.warnings?.some((w) => w.code === "history_extended"), JSON.stringify(fromToday.warnings));

  // null: no as_of sent, the service's origin is the request's latest date.
  const fromData = await new SmartShelfClient(base, { fetch: capturing, asOf: () => null }).forecast(request);
  assert.ok(!("as_of" in bodies.at(-1)!));
  assert.deepEqual(firstDates(fromData), ["2018-01-01"]);

  // A body's own as_of is sent as it is.
  const own = await later.forecast({ ...request, as_of: "2017-12-31" });
  assert.equal(bodies.at(-1)?.as_of, "2017-12-31");
  assert.deepEqual(firstDates(own), ["2018-01-01"]);

  // Without the option: yesterday's UTC date (a morning export's last day), on every method whose request takes as_of (answers stubbed).
  const sent: { path: string; as_of?: string | null }[] = [];
  const stub: typeof fetch = async (input, init) => {
    sent.push({ path: new URL(String(input)).pathname, ...JSON.parse(String(init?.body)) });
    return new Response("{}", { status: 200, headers: { "content-type": "application/json" } });
  };
  const plain = new SmartShelfClient(base, { fetch: stub });
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const body: any = { shop_id: "s", sales: [{ product_id: "p", date: "2017-12-31", qty: 1 }], inventory: [], items: [] };
  await Promise.all([plain.forecast(body), plain.forecastCsv(body), plain.startForecastBatch(body), plain.trainShopModel(body),
    plain.reorder(body), plain.reorderCsv(body), plain.atRisk(body), plain.promotions(body)]);
  assert.equal(sent.length, 8);
  for (const request of sent) assert.equal(request.as_of, utcYesterday(), request.path);
  const today = new Date(`${utcToday()}T00:00:00Z`);
  assert.equal(new Date(`${utcYesterday()}T00:00:00Z`).getTime(), today.getTime() - 86_400_000);
});

test("accuracy: 404 with a JSON error until later sales arrive, then per product and family", async () => {
  const shop = fresh("accuracy");
  await assert.rejects(client.accuracy(shop), (error: unknown) => {
    assert.ok(error instanceof SmartShelfError && error.status === 404);
    assert.equal(typeof error.body === "string" ? "" : error.body.error, "not_found");
    return true;
  });
  const request = { ...payload<ForecastRequest>("forecast"), shop_id: shop };
  const sales = request.sales ?? [];
  const cut = "2017-12-17"; // the last 14 days arrive in the second request
  await client.forecast({ ...request, sales: sales.filter((row) => String(row.date) <= cut), as_of: cut });
  const later = await client.forecast(request);
  assert.ok(later.forecasts.every((f) => f.realized_accuracy && f.realized_accuracy.periods === 14));
  const accuracy = (await client.accuracy(shop)) as { shop_id: string; products: Record<string, unknown>; families: object };
  assert.equal(accuracy.shop_id, shop);
  assert.deepEqual(Object.keys(accuracy.products).sort(), ["p1", "p2", "p3"]);
  assert.ok(Object.keys(accuracy.families).length > 0);
});

test("reorder, also as CSV", async () => {
  const request = payload("reorder");
  const answer = await client.reorder(request);
  assert.equal(answer.recommendations.length, 8);
  for (const r of answer.recommendations) {
    assert.ok(r.reorder_point >= r.safety_stock && r.recommended_order_qty >= 0);
    assert.ok(["critical", "high", "medium", "low"].includes(r.urgency));
  }
  const csv = (await client.reorderCsv(request)).trim().split("\n");
  assert.equal(csv.length, 1 + answer.recommendations.length);
  assert.ok(csv[0].startsWith("product_id,"));
});

test("anomalies, promotions, insights", async () => {
  const anomalies = await client.anomalies(payload("anomalies"));
  for (const a of anomalies.anomalies) assert.ok(a.product_id && a.type && a.description);
  const promotions = await client.promotions(payload("promotions"));
  assert.equal(promotions.promotions.length + promotions.unmatched.length > 0, true);
  for (const p of promotions.promotions) assert.ok(p.suggested_discount_pct >= 0 && p.suggested_discount_pct <= 40);
  const insights = await client.insights(payload("insights"));
  assert.ok(insights.series.length > 0 && insights.top_items.length === 5);
});

test("batch job: 202, progress to total, forecasts", async () => {
  const accepted = await client.startForecastBatch(payload<ForecastRequest>("forecast-batch"));
  assert.equal(accepted.total_products, 8);
  const seen: number[] = [];
  const job = await client.waitForJob(accepted.job_id, { intervalMs: 100, onProgress: (j) => seen.push(j.progress.done) });
  assert.equal(job.state, "succeeded");
  assert.equal(seen.at(-1), 8);
  assert.equal(job.forecasts?.length, 8);
  assert.ok((await client.jobs({ kind: "forecast_batch" })).some((j) => j.job_id === accepted.job_id));
  // pages of 3 products: 3 + 3 + 2, every product once, in the order of the whole list
  const paged: string[] = [];
  for await (const forecast of client.jobForecasts(accepted.job_id, 3)) paged.push(forecast.product_id);
  assert.deepEqual(paged, job.forecasts?.map((f) => f.product_id));
  const second = await client.job(accepted.job_id, true, { offset: 3, limit: 3 });
  assert.deepEqual(second.results_page, { offset: 3, limit: 3, total: 8, next_offset: 6 });
});

test("validation errors name the field", async () => {
  await assert.rejects(client.forecast({ shop_id: "s", sales: [] } as unknown as ForecastRequest), (error: unknown) => {
    assert.ok(error instanceof SmartShelfError && error.status === 422);
    assert.equal(typeof error.body === "string" ? "" : error.body.detail[0].field, "sales");
    return true;
  });
});

test("audit and metrics", async () => {
  assert.equal((await client.verifyAudit()).ok, true);
  assert.match(await client.metrics(), /smartshelf_requests_total/);
});

test("shop model: too short a history refused (400) or failed (job), then training, its job and the model card", async () => {
  const shop = fresh("shop_model");
  const batch = payload<ForecastRequest>("forecast-batch"); // 8 products x 180 days of real sales
  const p1 = (batch.sales ?? []).filter((row) => row.product_id === "p1");
  await assert.rejects(client.trainShopModel({ shop_id: shop, sales: p1.slice(-7), periods: 14 }), (error: unknown) => {
    assert.ok(error instanceof SmartShelfError && error.status === 400, String(error));
    return true;
  });
  await assert.rejects(client.modelCard(shop), (error: unknown) => error instanceof SmartShelfError && error.status === 404);
  // 80 days, 14 held out: at most 65 product-days to learn from, under the trees' 200: refused before any job
  await assert.rejects(client.trainShopModel({ shop_id: shop, sales: p1.slice(-80), periods: 14 }), (error: unknown) => {
    assert.ok(error instanceof SmartShelfError && error.status === 400, String(error));
    assert.match(error.message, /at least 200 product-days/);
    return true;
  });
  await assert.rejects(client.modelCard(shop), (error: unknown) => error instanceof SmartShelfError && error.status === 404);

  const request: TrainRequest = { shop_id: shop, sales: batch.sales, periods: 14 };
  const accepted = await client.trainShopModel(request);
  assert.ok(["queued", "running", "succeeded"].includes(accepted.state));
  assert.ok(accepted.status_url.includes(accepted.job_id));
  const job = await client.waitForJob(accepted.job_id, { intervalMs: 200, timeoutMs: 240_000 });
  assert.equal(job.state, "succeeded", JSON.stringify(job.shop_model));
  assert.equal(job.shop_model?.state, "succeeded");
  const trained = job.shop_model?.card;
  assert.ok(trained);

  const card = await client.modelCard(shop);
  assert.deepEqual(card, trained);
  assert.equal(card.shop_id, shop);
  assert.equal(card.frequency, "daily");
  assert.equal(card.horizon, 14);
  assert.equal(card.products, 8);
  assert.equal(card.training_last_date, "2017-12-31");
  assert.ok(card.features.length > 0 && card.held_out.periods === 14);
  assert.deepEqual(await client.modelCard(shop, { frequency: "daily" }), card);
  await assert.rejects(client.modelCard(shop, { frequency: "weekly" }), (error: unknown) =>
    error instanceof SmartShelfError && error.status === 404);

  const forecast = await client.forecast({ ...payload<ForecastRequest>("forecast"), shop_id: shop });
  assert.equal(forecast.meta.shop_model?.model_version, card.model_version);
});

test("every operation of openapi.json got a 2xx answer (add a client method and a test here for a new one)", () => {
  const document = JSON.parse(readFileSync(resolve(process.cwd(), "openapi.json"), "utf8")) as {
    paths: Record<string, Record<string, unknown>>;
  };
  const methods = new Set(["get", "put", "post", "delete", "patch", "head", "options", "trace"]);
  const missing: string[] = [];
  let operations = 0;
  for (const [template, item] of Object.entries(document.paths)) {
    const pattern = new RegExp(`^${template.replace(/[.*+?^$()|[\]\\]/g, "\\$&").replace(/\{[^}/]+\}/g, "[^/]+")}$`);
    for (const method of Object.keys(item).filter((m) => methods.has(m))) {
      operations += 1;
      const answered = sent.some((r) => r.method === method.toUpperCase() && pattern.test(r.path) && r.status < 300);
      if (!answered) missing.push(`${method.toUpperCase()} ${template}`);
    }
  }
  assert.ok(operations > 0, "openapi.json lists no operation");
  assert.deepEqual(missing, [], `operations of openapi.json the contract test never called successfully: ${missing.join(", ")}`);
});
