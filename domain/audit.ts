import * as z from "./zod";

/**
 * One entry of the audit trail: a lifecycle event (`kind: "event"`, `type` its detail-type) or
 * an operator's action (`kind: "action"`), with who did it, when and why. Operator actions are
 * open-ended: `stop`, `retry`, `run`, `release`, `rollback`, `webhook-secret`, `app-put` today;
 * other commands (freeze, override) add their own types without changing the trail.
 */
export const AuditEntrySchema = z.object({
  /** A ULID: the event's eventId for an event entry; it orders entries made in one millisecond. */
  id: z.string(),
  at: z.string(),
  app: z.string(),
  runId: z.optional(z.string()),
  kind: z.enum(["event", "action"]),
  type: z.string(),
  by: z.optional(z.string()),
  reason: z.optional(z.string()),
  /** An event entry's place among its run's events. */
  sequence: z.optional(z.number().check(z.int(), z.positive())),
  eventId: z.optional(z.string()),
  detail: z.optional(z.record(z.string(), z.unknown())),
});
export type AuditEntry = z.infer<typeof AuditEntrySchema>;

/** An operator's action as its use case states it; the trail adds its id. */
export interface AuditAction {
  app: string;
  runId?: string | undefined;
  type: string;
  by: string;
  reason?: string | undefined;
  at: string;
  detail?: Record<string, unknown> | undefined;
}

/** Who acted, and why, as an event's detail says it (an operator's action carried by an event). */
export function actorOfEvent(detail: Record<string, unknown>): { by?: string; reason?: string } {
  for (const key of ["action", "decision", "vote", "refusal", "requested", "override"]) {
    const part = detail[key] as { by?: unknown; reason?: unknown; comment?: unknown } | undefined;
    if (part && typeof part.by === "string") {
      const reason = typeof part.reason === "string" ? part.reason : part.comment;
      return { by: part.by, ...(typeof reason === "string" ? { reason } : {}) };
    }
  }
  return {};
}
