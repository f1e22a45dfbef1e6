/**
 * Typed client of the SmartShelf ML service over `fetch` (Node >= 20 or a browser).
 *
 * Types come from `src/schema.ts`, generated from the service's OpenAPI document by
 * `make client` (openapi-typescript); do not edit that file by hand.
 */
import type { components, paths } from "./schema.js";

export { fromSeries, toSeries, type SaleRow, type SaleSeries, type SeriesOptions } from "./series.js";

export type Schemas = components["schemas"];
/** `T` with the fields the service defaults (required in the generated types, which describe answers too) optional. */
type Defaulted<T, K extends keyof T> = Omit<T, K> & Partial<Pick<T, K>>;
export type ForecastRequest = Defaulted<Schemas["ForecastRequest"], "confidence_interval" | "duplicates" | "frequency" | "model" | "periods">;
export type JobStatus = Schemas["JobStatus"];
/** POST /models/train: `frequency` defaults to `auto`, `periods` (the longest horizon served, held out to score it) to 28. */
export type TrainRequest = Defaulted<Schemas["TrainRequest"], "duplicates" | "frequency" | "periods">;
export type ModelCard = Schemas["ModelCard"];

type JsonBody<P extends keyof paths, M extends "post"> = paths[P][M] extends {
  requestBody: { content: { "application/json": infer B } };
}
  ? B
  : never;
type Query<P extends keyof paths> = paths[P]["get"] extends { parameters: { query?: infer Q } } ? NonNullable<Q> : never;

/** A non-2xx answer: `status` and the service's JSON error body (`error`, `message`, `detail`). */
export class SmartShelfError extends Error {
  constructor(
    readonly status: number,
    readonly body: Schemas["ErrorBody"] | string,
  ) {
    super(typeof body === "string" ? `HTTP ${status}: ${body.slice(0, 200)}` : `HTTP ${status}: ${body.message}`);
    this.name = "SmartShelfError";
  }
}

export interface ClientOptions {
  /** Extra headers on every call, e.g. an API key. */
  headers?: Record<string, string>;
  /** Milliseconds before a call is aborted (default 60 000). */
  timeoutMs?: number;
  fetch?: typeof fetch;
  /**
   * The last day the caller's sales cover (`as_of`): `atRisk`, `forecast`, `forecastCsv`,
   * `startForecastBatch`, `reorder`, `reorderCsv`, `trainShopModel` and `promotions` send `as_of` =
   * `asOf()` when the body has no `as_of` (a body's own `as_of` is sent as it is; `as_of: null` asks for
   * the service's default). The service runs every product's history to `as_of` (the days after its last
   * sales row count as zero sales) and starts every forecast and decision the day after.
   *
   * Default: yesterday's UTC date (`utcYesterday`): a morning export of the till runs through yesterday, so
   * forecasts start today (and stock expiring today still sells today). Return today's date when your sales
   * include today's (an export after closing), the shop's local date where it differs from UTC, the last date
   * of historical data to replay it, or `null` to send no `as_of` (the service's own default: the latest date
   * in the request, or the shop model's training end when later).
   */
  asOf?: () => string | null;
}

/** Today's date in UTC, YYYY-MM-DD. */
export function utcToday(): string {
  return new Date().toISOString().slice(0, 10);
}

/** Yesterday's date in UTC, YYYY-MM-DD: the default `asOf` of a client (a morning export's last day). */
export function utcYesterday(): string {
  return new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);
}

const API = "/api/v1/smart-shelf";

export class SmartShelfClient {
  private readonly base: string;
  private readonly headers: Record<string, string>;
  private readonly timeoutMs: number;
  private readonly fetcher: typeof fetch;
  private readonly asOf: () => string | null;

  constructor(baseUrl: string, options: ClientOptions = {}) {
    this.base = baseUrl.replace(/\/+$/, "");
    this.headers = options.headers ?? {};
    this.timeoutMs = options.timeoutMs ?? 60_000;
    this.fetcher = options.fetch ?? fetch;
    this.asOf = options.asOf ?? utcYesterday;
  }

  /** `body` with `as_of` = `asOf()` when it has none (see `ClientOptions.asOf`). */
  private dated<T extends { as_of?: string | null }>(body: T): T {
    if (body.as_of !== undefined) return body;
    const asOf = this.asOf();
    return asOf == null ? body : { ...body, as_of: asOf };
  }

  private async call(method: "GET" | "POST", path: string, body?: unknown, accept = "application/json"): Promise<Response> {
    const response = await this.fetcher(`${this.base}${path}`, {
      method,
      headers: { accept, ...(body === undefined ? {} : { "content-type": "application/json" }), ...this.headers },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(this.timeoutMs),
    });
    if (!response.ok) {
      const text = await response.text();
      let parsed: Schemas["ErrorBody"] | string = text;
      try {
        parsed = JSON.parse(text) as Schemas["ErrorBody"];
      } catch {
        // not JSON: keep the text
      }
      throw new SmartShelfError(response.status, parsed);
    }
    return response;
  }

  private async json<T>(method: "GET" | "POST", path: string, body?: unknown): Promise<T> {
    return (await (await this.call(method, path, body)).json()) as T;
  }

  private async text(method: "GET" | "POST", path: string, body: unknown, accept: string): Promise<string> {
    return (await this.call(method, path, body, accept)).text();
  }

  health(): Promise<{ status: string; version: string }> {
    return this.json("GET", "/health");
  }

  ready(): Promise<Schemas["ReadinessReport"]> {
    return this.json("GET", "/health/ready");
  }

  atRisk(body: JsonBody<"/api/v1/smart-shelf/at-risk", "post">): Promise<Schemas["AtRiskResponse"]> {
    return this.json("POST", `${API}/at-risk`, this.dated(body));
  }

  forecast(body: ForecastRequest): Promise<Schemas["ForecastResponse"]> {
    return this.json("POST", `${API}/forecast`, this.dated(body));
  }

  /** The same forecast as CSV: one row per product and period, with a header row. */
  forecastCsv(body: ForecastRequest): Promise<string> {
    return this.text("POST", `${API}/forecast`, this.dated(body), "text/csv");
  }

  latestForecast(shopId: string, productId: string): Promise<Schemas["ProductForecast"]> {
    return this.json("GET", `${API}/forecast/${encodeURIComponent(shopId)}/${encodeURIComponent(productId)}`);
  }

  /** SVG picture of the latest stored forecast (history, forecast, interval band, method). */
  forecastPlot(shopId: string, productId: string): Promise<string> {
    return this.text("GET", `${API}/forecast/${encodeURIComponent(shopId)}/${encodeURIComponent(productId)}/plot`,
      undefined, "image/svg+xml");
  }

  accuracy(shopId: string): Promise<Record<string, unknown>> {
    return this.json("GET", `${API}/accuracy/${encodeURIComponent(shopId)}`);
  }

  reorder(body: JsonBody<"/api/v1/smart-shelf/reorder", "post">): Promise<Schemas["ReorderResponse"]> {
    return this.json("POST", `${API}/reorder`, this.dated(body));
  }

  reorderCsv(body: JsonBody<"/api/v1/smart-shelf/reorder", "post">): Promise<string> {
    return this.text("POST", `${API}/reorder`, this.dated(body), "text/csv");
  }

  anomalies(body: JsonBody<"/api/v1/smart-shelf/anomalies", "post">): Promise<Schemas["AnomaliesResponse"]> {
    return this.json("POST", `${API}/anomalies`, body);
  }

  promotions(body: JsonBody<"/api/v1/smart-shelf/promotions", "post">): Promise<Schemas["PromotionsResponse"]> {
    return this.json("POST", `${API}/promotions`, this.dated(body));
  }

  insights(body: JsonBody<"/api/v1/smart-shelf/insights", "post">): Promise<Schemas["InsightsResponse"]> {
    return this.json("POST", `${API}/insights`, body);
  }

  /** Start a background forecast of many products; poll it with `job` or `waitForJob`. */
  startForecastBatch(body: ForecastRequest): Promise<Schemas["JobAccepted"]> {
    return this.json("POST", `${API}/forecast/batch`, this.dated(body));
  }

  /**
   * Train the shop's model on its whole catalogue (202: a job). Poll it with `job` or `waitForJob`:
   * the job's `shop_model` holds the training's state and, once done, the model card.
   */
  trainShopModel(body: TrainRequest): Promise<Schemas["JobAccepted"]> {
    return this.json("POST", `${API}/models/train`, this.dated(body));
  }

  /** The shop model's card (`frequency` picks the daily or weekly model; without it, the newest); 404 without one. */
  modelCard(shopId: string, query: Query<"/api/v1/smart-shelf/models/{shop_id}"> = {}): Promise<ModelCard> {
    const search = new URLSearchParams(Object.entries(query).filter(([, v]) => v != null).map(([k, v]) => [k, String(v)]));
    return this.json("GET", `${API}/models/${encodeURIComponent(shopId)}${search.size ? `?${search}` : ""}`);
  }

  /**
   * A job's state and, once finished, one page of its forecasts (`page.offset`, `page.limit`: default 100,
   * at most 1,000); `results_page.next_offset` is the next page's offset (null after the last).
   * `jobForecasts` reads every page.
   */
  job(jobId: string, results = true, page: { offset?: number; limit?: number } = {}): Promise<JobStatus> {
    const search = new URLSearchParams({ results: String(results) });
    if (page.offset != null) search.set("offset", String(page.offset));
    if (page.limit != null) search.set("limit", String(page.limit));
    return this.json("GET", `/api/v1/jobs/${encodeURIComponent(jobId)}?${search}`);
  }

  /** Every forecast of a finished job, page by page (`limit` products a request). */
  async *jobForecasts(jobId: string, limit = 1000): AsyncGenerator<Schemas["ProductForecast"]> {
    let offset: number | null | undefined = 0;
    while (offset != null) {
      const job: JobStatus = await this.job(jobId, true, { offset, limit });
      yield* job.forecasts ?? [];
      offset = job.results_page?.next_offset;
    }
  }

  jobs(query: { kind?: string; shop_id?: string; limit?: number } = {}): Promise<Schemas["JobSummary"][]> {
    const search = new URLSearchParams(Object.entries(query).map(([k, v]) => [k, String(v)]));
    return this.json("GET", `/api/v1/jobs${search.size ? `?${search}` : ""}`);
  }

  /** Poll a job until it has finished; `onProgress` sees every state read. */
  async waitForJob(jobId: string, options: { intervalMs?: number; timeoutMs?: number; onProgress?: (job: JobStatus) => void } = {}): Promise<JobStatus> {
    const deadline = Date.now() + (options.timeoutMs ?? 600_000);
    for (;;) {
      const job = await this.job(jobId, false);
      options.onProgress?.(job);
      if (job.finished_at) return this.job(jobId, true);
      if (Date.now() > deadline) throw new Error(`job ${jobId} not finished after ${options.timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 500));
    }
  }

  verifyAudit(): Promise<Schemas["AuditReport"]> {
    return this.json("GET", "/api/v1/audit/verify");
  }

  metrics(): Promise<string> {
    return this.text("GET", "/metrics", undefined, "text/plain");
  }
}

export type { components, paths };
