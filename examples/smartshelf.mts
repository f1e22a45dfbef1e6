/**
 * What a Node backend does with SmartShelf, through the typed client (clients/typescript):
 * find products at risk, forecast and reorder, then run a batch forecast with progress.
 * Payloads are examples/payloads (real store-item sales).
 *
 *   cd clients/typescript && npm ci && npm run example -- http://localhost:8000
 */
import { readFileSync } from "node:fs";
import { resolve } from "node:path";

import { SmartShelfClient, SmartShelfError } from "../clients/typescript/src/client.js";

const base = process.argv[2] ?? process.env.SMARTSHELF_URL ?? "http://localhost:8000";
const client = new SmartShelfClient(base);
const payloads = resolve(process.cwd(), "../../examples/payloads");
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const load = (name: string): any => JSON.parse(readFileSync(resolve(payloads, `${name}.json`), "utf8"));

async function main(): Promise<void> {
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
}

main().catch((error: unknown) => {
  console.error(error instanceof SmartShelfError ? `${error.message} (${JSON.stringify(error.body)})` : error);
  process.exit(1);
});
