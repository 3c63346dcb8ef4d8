import { readFileSync } from "node:fs";
import { parentPort, workerData } from "node:worker_threads";
import { niceThisThread } from "../../local/thread-priority";

/** A thread that nices itself as the Lambda workers do, then tells what the OS says of it. */
const applied = niceThisThread(workerData as number);
// Field 19 of /proc/<tid>/stat is the nice value; the command in field 2 may hold spaces.
const stat = readFileSync("/proc/thread-self/stat", "utf8");
const nice = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[16]);
const processNice = Number(
  readFileSync("/proc/self/stat", "utf8").split(") ")[1]?.split(" ")[16] ?? Number.NaN,
);
parentPort?.postMessage({ applied, nice, processNice });
