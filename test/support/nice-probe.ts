import { readFileSync } from "node:fs";
import { parentPort, workerData } from "node:worker_threads";
import { niceThisThread } from "../../local/thread-priority";

/** A thread that nices itself as the Lambda workers do, then tells what the OS says of it. */
const applied = niceThisThread(workerData as number);
/** Field 19 of a /proc stat file is the nice value; the command in field 2 may hold spaces. */
const niceIn = (statFile: string) => {
  const stat = readFileSync(statFile, "utf8");
  return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[16]);
};
parentPort?.postMessage({
  applied,
  nice: niceIn("/proc/thread-self/stat"),
  processNice: niceIn("/proc/self/stat"),
});
