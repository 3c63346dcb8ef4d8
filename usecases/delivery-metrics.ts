import { BadRequestError } from "../domain/errors";
import {
  type DeliveryMetrics,
  deliveryMetrics,
  type MetricsRun,
  type Period,
  productionDeployments,
} from "../domain/metrics";
import type { AppRepository } from "../domain/ports";
import { parseRequest } from "../domain/validation";
import * as z from "../domain/zod";
import { requireApp } from "./require-app";

export interface MetricsPorts {
  apps: AppRepository;
  runs: { listCreatedBetween(app: string, from: string, to: string): Promise<MetricsRun[]> };
}

const DAY_MS = 24 * 3600 * 1000;
/** The longest period asked for at once: a year, as DORA's reports look back. */
export const MAX_PERIOD_DAYS = 366;
/**
 * How far before the period runs are read: a run created earlier may end in it (a long approval
 * wait), and an incident open when the period begins makes its fix rework.
 */
export const LOOKBACK_DAYS = 30;

const Instant = z.iso.datetime({ offset: true, local: false });
const MetricsQuerySchema = z.object({
  from: z.optional(z.union([Instant, z.iso.date()])),
  to: z.optional(z.union([Instant, z.iso.date()])),
});

/**
 * The period a `?from=&to=` query asks for (ISO 8601 instants or dates, `to` exclusive); by
 * default the last 30 days up to now.
 */
export function parseMetricsQuery(
  query: Record<string, string | undefined> | undefined,
  now: Date,
): Period {
  const asked = parseRequest(MetricsQuerySchema, "metrics query", query ?? {});
  const to = asked.to ? Date.parse(asked.to) : now.getTime();
  const from = asked.from ? Date.parse(asked.from) : to - 30 * DAY_MS;
  return { from: new Date(from).toISOString(), to: new Date(to).toISOString() };
}

export type AppMetrics = DeliveryMetrics & { app: string; productionStage: string | null };

/** The app's DORA metrics over the period, from its runs. */
export async function appMetrics(
  ports: MetricsPorts,
  name: string,
  period: Period,
): Promise<AppMetrics> {
  const from = Date.parse(period.from);
  const to = Date.parse(period.to);
  if (!(from < to)) throw new BadRequestError("from must be before to");
  if (to - from > MAX_PERIOD_DAYS * DAY_MS) {
    throw new BadRequestError(`a period is at most ${MAX_PERIOD_DAYS} days`);
  }
  const app = await requireApp(ports.apps, name);
  const production = app.pipeline.stages.find((stage) => stage.production)?.name;
  const runs = production
    ? await ports.runs.listCreatedBetween(
        app.name,
        new Date(from - LOOKBACK_DAYS * DAY_MS).toISOString(),
        new Date(to).toISOString(),
      )
    : [];
  const asked = { from: new Date(from).toISOString(), to: new Date(to).toISOString() };
  return {
    app: app.name,
    productionStage: production ?? null,
    ...deliveryMetrics(productionDeployments(runs, production ?? ""), asked),
  };
}
