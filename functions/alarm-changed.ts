import middy from "@middy/core";
import { deployPorts } from "../adapters/deploy-ports";
import * as z from "../domain/zod";
import { logger } from "../http/logger";
import { alarmChanged } from "../usecases/deploy";

const AlarmStateChangeSchema = z.object({
  detail: z.object({
    alarmName: z.string(),
    state: z.object({ value: z.string(), reason: z._default(z.string(), "") }),
  }),
});

/**
 * EventBridge rule target for "CloudWatch Alarm State Change": an alarm gone to ALARM stops
 * the deployments and bakes that watch it; one back to OK lets the waves it held go on.
 */
export const handler = middy(async (event: unknown) => {
  const { detail } = AlarmStateChangeSchema.parse(event);
  logger.info("alarm changed", { alarm: detail.alarmName, state: detail.state.value });
  await alarmChanged(deployPorts(), detail.alarmName, detail.state.value, detail.state.reason);
});
