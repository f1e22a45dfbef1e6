/**
 * What a Node backend does with SmartShelf, through the typed client (clients/typescript):
 * find products at risk, forecast and reorder, run a batch forecast with progress, then train
 * the shop's model and read its card. Payloads are examples/payloads (real store-item sales, 2017):
 * the client's `asOf` (the `as_of` it sends, the last day the sales cover) is their last date.
 * A live shop keeps the default, yesterday's date (a morning export's last day).
 *
 *   cd clients/typescript && npm ci && npm run example                      # server at http://localhost:8000
 *   SMARTSHELF_URL=http://smartshelf.internal:8000 npm run example          # another server
 *
 * When no server answers it says so in one line on stderr and exits 1.
 */
import { readFileSync } from "node:fs";
import { resolve } from "node:path";

import { SmartShelfClient, SmartShelfError } from "../clients/typescript/src/client.js";

const DEFAULT_URL = "http://localhost:8000";
const base = process.env.SMARTSHELF_URL || DEFAULT_URL;
const payloads = resolve(process.cwd(), "../../examples/payloads");
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const load = (name: string): any => JSON.parse(readFileSync(resolve(payloads, `${name}.json`), "utf8"));
/** The payloads' last day of sales (2017-12-31), `as_of` for this replay of them. */
const dataEnd: string = load("forecast-batch").sales.map((row: { date: string }) => row.date.slice(0, 10)).sort().at(-1);

async function main(client: SmartShelfClient): Promise<void> {
  const health = await client.health();
  console.log(`SmartShelf ${health.version} at ${base}`);

  const risk = await client.atRisk(load("at-risk"));
  console.log(`at-risk: ${risk.at_risk.length} of ${risk.meta.total_products} products need action`);
  for (const item of risk.at_risk.slice(0, 3)) {
    console.log(`  ${item.name}: ${item.recommended_action.action_type} (score ${item.score.toFixed(2)}) - ${item.recommended_action.reasoning}`);
  }

  const forecast = await client.forecast(load("forecast"));
  for (const f of forecast.forecasts) {
    const week = f.predictions.slice(0, 7).reduce((sum, p) => sum + p.predicted_qty, 0);
    console.log(`forecast ${f.product_id}: ${week.toFixed(0)} units next 7 days by ${f.method} (backtest MASE ${f.mase?.toFixed(2)})`);
  }

  const reorder = await client.reorder(load("reorder"));
  for (const r of reorder.recommendations.filter((r) => r.recommended_order_qty > 0)) {
    console.log(`reorder ${r.name}: ${r.recommended_order_qty} units (${r.urgency}) - ${r.reasoning}`);
  }

  const accepted = await client.startForecastBatch(load("forecast-batch"));
  const job = await client.waitForJob(accepted.job_id, {
    intervalMs: 250,
    onProgress: (j) => console.log(`batch ${j.job_id}: ${j.state} ${j.progress.done}/${j.progress.total}`),
  });
  console.log(`batch finished: ${job.state}, ${job.forecasts?.length} forecasts, ${job.errors.length} errors`);

  // The shop's own model, trained on its whole catalogue (8 products x 180 days; the last 14 held out).
  const { shop_id, sales } = load("forecast-batch");
  const training = await client.trainShopModel({ shop_id, sales, periods: 14 });
  const trained = await client.waitForJob(training.job_id, { intervalMs: 250 });
  if (trained.shop_model?.state !== "succeeded") throw new Error(`training ${trained.state}: ${trained.shop_model?.message}`);
  const card = await client.modelCard(shop_id);
  const mase = (name: string): string => card.held_out.scores[name]?.mase?.toFixed(2) ?? "-";
  console.log(`shop model ${card.model_version}: ${card.products} products, held-out MASE ${mase("auto")} ` +
    `(seasonal naive ${mase("seasonal_naive")}, moving average ${mase("moving_average")})`);
}

/** Whether `fetch` failed for want of a server: refused, unknown host, unreachable ("fetch failed") or timed out. */
function unreachable(error: unknown): boolean {
  if (error instanceof DOMException && (error.name === "TimeoutError" || error.name === "AbortError")) return true;
  return error instanceof TypeError && error.message === "fetch failed";
}

function fail(line: string): never {
  console.error(`SmartShelf: ${line}`);
  process.exit(1);
}

let url: URL | undefined;
try {
  url = new URL(base);
} catch {
  // reported below
}
if (!url || !["http:", "https:"].includes(url.protocol)) {
  fail(`SMARTSHELF_URL must be an http(s) address such as ${DEFAULT_URL} (got ${JSON.stringify(base)})`);
}

main(new SmartShelfClient(base, { asOf: () => dataEnd })).catch((error: unknown) => {
  if (unreachable(error)) fail(`no server answers at ${base} (start one with \`make run\`, or set SMARTSHELF_URL)`);
  if (error instanceof SmartShelfError) fail(`${error.message} (${JSON.stringify(error.body)})`);
  throw error; // a bug in this example: with its stack
});
