import { startTestStack } from "/work/wt-alarms/test/support/local-stack";
const stack = await startTestStack();
stack.eventBridge.subscribe((e) => { if (e.source === "aws.cloudwatch") console.log("EVENT", JSON.stringify(e.detail)); });
console.log("ENDPOINT", stack.endpoints.cloudwatch);
setTimeout(async () => { await stack.cleanup(); process.exit(0); }, 60_000);
