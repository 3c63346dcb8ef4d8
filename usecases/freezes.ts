import { BadRequestError, NotFoundError } from "../domain/errors";
import { type Freeze, freezeEnd } from "../domain/holds";
import type { AppRepository, Clock, Freezes } from "../domain/ports";
import { parseRequest } from "../domain/validation";
import * as z from "../domain/zod";
import { requireApp } from "./require-app";

export interface FreezePorts {
  apps: AppRepository;
  freezes: Freezes;
  clock: Clock;
}

const ReasonSchema = z
  .string()
  .check(
    z.trim(),
    z.minLength(1, "say why: a freeze is recorded with its reason"),
    z.maxLength(500),
  );

const FreezeRequestSchema = z.strictObject({
  /** An ISO 8601 time with its offset, or a duration from now: 90m, 8h, 3d, 2w. */
  until: z.string().check(z.minLength(1)),
  reason: ReasonSchema,
});

const UnfreezeRequestSchema = z.strictObject({ reason: ReasonSchema });

/**
 * Freezes an app (a holiday code freeze): every production wave of its runs that has not begun
 * to deploy waits until the freeze ends or is lifted. A wave already deploying finishes. A
 * second freeze replaces the first.
 */
export async function freezeApp(
  ports: FreezePorts,
  name: string,
  by: string,
  body: unknown,
): Promise<Freeze> {
  const request = parseRequest(FreezeRequestSchema, "freeze", body ?? {});
  const app = await requireApp(ports.apps, name);
  const now = ports.clock.now();
  const until = freezeEnd(request.until, now);
  if (!until) {
    throw new BadRequestError(
      `invalid freeze: until: "${request.until}" is neither a time to come (ISO 8601 with its offset, e.g. 2026-12-27T08:00:00Z) nor a duration such as 90m, 8h, 3d or 2w`,
    );
  }
  const freeze: Freeze = {
    app: app.name,
    until: until.toISOString(),
    reason: request.reason,
    by,
    at: now.toISOString(),
  };
  await ports.freezes.put(freeze);
  return freeze;
}

/** Lifts an app's freeze: the waves it held go on at once. */
export async function unfreezeApp(
  ports: FreezePorts,
  name: string,
  by: string,
  body: unknown,
): Promise<Freeze & { liftedBy: string; liftReason: string; liftedAt: string }> {
  const request = parseRequest(UnfreezeRequestSchema, "unfreeze", body ?? {});
  const app = await requireApp(ports.apps, name);
  const at = ports.clock.now().toISOString();
  const lifted = await ports.freezes.lift(app.name, by, request.reason, at);
  if (!lifted) throw new NotFoundError(`app ${app.name} is not frozen`);
  return { ...lifted, liftedBy: by, liftReason: request.reason, liftedAt: at };
}

/** The app's freeze, if one holds it now. */
export async function freezeOf(ports: FreezePorts, name: string): Promise<Freeze | undefined> {
  const app = await requireApp(ports.apps, name);
  const freeze = await ports.freezes.get(app.name);
  return freeze && Date.parse(freeze.until) > ports.clock.now().getTime() ? freeze : undefined;
}
