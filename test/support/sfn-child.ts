/**
 * The Step Functions stand-in in a process of its own, for tests that SIGKILL it. Reads
 * SLUICE_SFN_STATE_DIR, SLUICE_SFN_PORT, SLUICE_SFN_TEST_LOG, SLUICE_SFN_MACHINES (names,
 * comma-separated) and the SLUICE_LOCAL_*_SCALE
 * variables; prints `ready <endpoint>` once it serves; SIGTERM stops it cleanly.
 */
import { timingFromEnv } from "../../local/stepfunctions";
import { type MachineName, machines } from "./sfn-machines";
import { startStandIn } from "./sfn-stand-in";

const standIn = await startStandIn({
  stateDir: process.env.SLUICE_SFN_STATE_DIR ?? "",
  machines: machines(...((process.env.SLUICE_SFN_MACHINES ?? "").split(",") as MachineName[])),
  timing: timingFromEnv(process.env),
  port: Number(process.env.SLUICE_SFN_PORT ?? 0),
  log: process.env.SLUICE_SFN_TEST_LOG ?? "",
});
process.stdout.write(`ready ${standIn.endpoint}\n`);
process.on("SIGTERM", () => {
  standIn.stop().then(() => process.exit(0));
});
