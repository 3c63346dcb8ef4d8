import { existsSync, readFileSync } from "node:fs";
import { createServer } from "node:http";

function readVersion() {
  if (process.env.APP_VERSION) return process.env.APP_VERSION;
  try {
    return readFileSync(new URL("VERSION", import.meta.url), "utf8").trim();
  } catch {
    return "unknown";
  }
}

const version = readVersion();
// A release with a BROKEN file is one whose health check fails: the README's bad version.
const broken = existsSync(new URL("BROKEN", import.meta.url));
const port = Number(process.env.PORT ?? 8080);

const server = createServer((request, response) => {
  const { pathname } = new URL(request.url ?? "/", "http://localhost");
  if (request.method === "GET" && pathname === "/health") {
    response.writeHead(broken ? 500 : 200, { "content-type": "application/json" });
    response.end(JSON.stringify({ status: broken ? "broken" : "ok", version }));
  } else if (request.method === "GET" && pathname === "/") {
    response.writeHead(200, { "content-type": "text/plain; charset=utf-8" });
    response.end(`Hello from hello-service ${version}\n`);
  } else {
    response.writeHead(404, { "content-type": "text/plain; charset=utf-8" });
    response.end("Not found\n");
  }
});

server.listen(port, () => {
  console.log(`hello-service ${version} listening on port ${port}`);
});

// stop.sh sends SIGTERM: finish the requests in flight, then exit cleanly.
for (const signal of ["SIGTERM", "SIGINT"]) {
  process.on(signal, () => server.close(() => process.exit(0)));
}
