import { createHash } from "node:crypto";
import { mkdir, readFile } from "node:fs/promises";
import path from "node:path";
import { PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import chromium from "@sparticuz/chromium";
import { type Browser, type Page, chromium as playwright } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { LOCAL_CREDENTIALS, PROJECT_ROOT } from "../../local/stack";
import { writeBundle } from "../support/bundles";
import { api, callApi, type FleetStack, startFleetStack } from "../support/local-stack";

// biome-ignore lint/suspicious/noExplicitAny: tests read answers loosely and assert on them
type Json = any;

/**
 * The dashboard in headless Chromium against one stack, signed in as `npm start` signs a person
 * in: with the printed URL's token. Waits run at 0.05 of their length, so the 40-second check
 * before the approval lasts 2 s: long enough to see the timeline move on while the page is open.
 * Two local hosts in one deployment group show their revisions; the OIDC sign-in runs against a
 * provider the browser's routed requests stand in for.
 */
let stack: FleetStack;
let workDir: string;
let browser: Browser;
/** One tab for every case: this Chromium runs as one process, which its last tab's close ends. */
let page: Page;
const pageErrors: string[] = [];
const TIMING = { waitScale: 0.05, taskTimeoutScale: 0.003, retryScale: 0.01 };
const ME = "ana@example.com";
const screenshots = path.join(PROJECT_ROOT, "test-results");

beforeAll(async () => {
  // The person the local token stands for, as their provider's JWT would name them.
  process.env.SLUICE_LOCAL_EMAIL = ME;
  stack = await startFleetStack(
    "sluice-dashboard-",
    "applications:\n  web:\n    groups:\n      web-prod: { hosts: 2 }\n",
    { timing: TIMING },
  );
  workDir = stack.workDir;
  browser = await playwright.launch({
    executablePath: await chromium.executablePath(),
    args: chromium.args,
    headless: true,
  });
  page = await browser.newPage();
  page.on("pageerror", (err) => pageErrors.push(err.message));
  await mkdir(screenshots, { recursive: true });
}, 60_000);
afterAll(async () => {
  delete process.env.SLUICE_LOCAL_EMAIL;
  await browser?.close();
  await stack?.cleanup();
});

async function register(app: string, approvers: Json[]) {
  const stages = [
    { name: "checks", wait: { seconds: 40 } },
    // 60 days: 4.3 hours at this scale, however slow the machine.
    { name: "sign-off", approval: { timeoutMinutes: 86_400, approvers } },
    { name: "after", wait: { seconds: 1 } },
  ];
  const res = await api(
    stack,
    "PUT",
    `/apps/${app}`,
    stringify({ executionMode: "parallel", stages }),
  );
  expect(res.status, JSON.stringify(res.body)).toBe(201);
}

async function startRun(app: string): Promise<string> {
  const created = await api(stack, "POST", `/apps/${app}/runs`, {
    revision: { type: "git", commit: "d".repeat(40) },
    change: { message: "Show the <b>dashboard</b>", author: { email: "bo@example.com" } },
  });
  expect(created.status, JSON.stringify(created.body)).toBe(202);
  return created.body.id;
}

const getRun = async (id: string): Promise<Json> => (await api(stack, "GET", `/runs/${id}`)).body;

describe("people's access", () => {
  it("keeps the token in the state folder and lets no one onto the people's routes without it", async () => {
    const { person, dashboardUrl } = stack.services.api;
    expect((await readFile(path.join(stack.stateDir, "ui-token"), "utf8")).trim()).toBe(
      person.token,
    );
    expect(dashboardUrl).toBe(`${stack.endpoints.api}/ui?token=${person.token}`);
    await register("guarded", []);
    expect((await api(stack, "GET", "/api/apps/guarded")).status).toBe(401);
    const wrong = { authorization: `Bearer ${"x".repeat(person.token.length)}` };
    expect((await api(stack, "GET", "/api/apps/guarded", undefined, wrong)).status).toBe(401);
    const right = { authorization: `Bearer ${person.token}` };
    expect((await api(stack, "GET", "/api/apps/guarded", undefined, right)).status).toBe(200);
    // The page and its files hold no data: they need no token.
    const page = await callApi(stack.endpoints.api, "GET", "/ui");
    expect(page.status).toBe(200);
  });
});

describe("the dashboard", () => {
  it("lists the run, follows it live from its check to its approval, and Approve lets it succeed", async () => {
    await register("shop", [{ email: ME }]);
    const id = await startRun("shop");

    // Opened as the printed address opens it, straight on the run while it does its check.
    await page.goto(`${stack.services.api.dashboardUrl}#/runs/${id}`);
    await page.locator("li[data-step=checks][data-status=RUNNING]").waitFor();
    expect(page.url()).not.toContain("token=");
    expect(await page.locator('li[data-step="sign-off"]').getAttribute("data-status")).toBe(
      "PENDING",
    );
    // The page asks again while the run is live: the check ends and the approval begins.
    await page.locator("li[data-step=checks][data-status=SUCCEEDED]").waitFor({ timeout: 15_000 });
    await page.locator('li[data-step="sign-off"][data-status=RUNNING]').waitFor();

    // The list, in the same tab (the token is kept for the tab), shows it running, in blue.
    await page.goto(`${stack.endpoints.api}/ui#/runs?app=shop`);
    const row = page.locator(`tr[data-run="${id}"]`);
    const status = row.locator(".badge[data-status=RUNNING]");
    await status.waitFor();
    expect(
      await status.evaluate(
        (el) => el.ownerDocument.defaultView?.getComputedStyle(el).backgroundColor,
      ),
    ).toBe("rgb(9, 105, 218)");
    expect(await page.locator("main").textContent()).toContain(
      "Pipeline: checks → sign-off → after",
    );
    await row.locator(`a[href="#/runs/${id}"]`).click();
    await page.locator('li[data-step="sign-off"][data-status=RUNNING]').waitFor();
    // A commit message is shown as text, never as markup.
    expect(await page.locator(".facts .message").textContent()).toBe("Show the <b>dashboard</b>");
    const shot = path.join(screenshots, "dashboard-run.png");
    await page.screenshot({ path: shot, fullPage: true });
    console.info(`dashboard screenshot: ${shot}`);

    await page.fill("textarea[name=comment]", "looks good in the dashboard");
    await page.click("button.approve");
    await page
      .locator(".notice")
      .filter({ hasText: `Approved by ${ME}` })
      .waitFor();
    await page.locator("h1 .badge[data-status=SUCCEEDED]").waitFor({ timeout: 15_000 });

    const run = await getRun(id);
    expect(run.status).toBe("SUCCEEDED");
    const signOff = run.steps.find((s: Json) => s.step === "sign-off");
    expect(signOff.approval).toMatchObject({ decision: "approve", by: ME });
    expect(signOff.votes[0]).toMatchObject({ via: "oidc", comment: "looks good in the dashboard" });
    // The audit trail shows who approved, and says it as `sluice events` does.
    const audit = await page.locator("[data-section='audit trail']").textContent();
    expect(audit).toContain(ME);
    expect(audit).toContain("sign-off: approve via oidc: looks good in the dashboard");
    expect(pageErrors).toEqual([]);
  });

  it("shows the refusal when the person is not an approver", async () => {
    await register("guarded-shop", [{ email: "carol@example.com" }]);
    const id = await startRun("guarded-shop");
    await page.goto(`${stack.services.api.dashboardUrl}#/runs/${id}`);
    await page
      .locator('li[data-step="sign-off"][data-status=RUNNING]')
      .waitFor({ timeout: 15_000 });
    await page.click("button.approve");
    await page
      .locator(".refusal")
      .filter({ hasText: `${ME} is not an approver of stage sign-off` })
      .waitFor();
    expect((await getRun(id)).status).toBe("RUNNING");
    expect(pageErrors).toEqual([]);
  });

  it("shows each host of a deployment group with the revision it now runs", async () => {
    const app = "web";
    const res = await api(
      stack,
      "PUT",
      `/apps/${app}`,
      stringify({
        stages: [
          {
            name: "prod",
            production: {
              waves: [
                { deploymentGroup: "web-prod", deploymentConfig: "CodeDeployDefault.AllAtOnce" },
              ],
            },
          },
        ],
      }),
    );
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    const bundle = await writeBundle(path.join(workDir, "web-1.4.0.tar.gz"), "tar.gz", [
      { path: "appspec.yml", content: "version: 0.0\nos: linux\n" },
      { path: "VERSION", content: "1.4.0\n" },
    ]);
    await new S3Client({
      endpoint: stack.endpoints.s3,
      region: "us-east-1",
      credentials: LOCAL_CREDENTIALS,
      forcePathStyle: true,
    }).send(
      new PutObjectCommand({
        Bucket: stack.resources.releasesBucket,
        Key: `${app}/1.4.0.tar.gz`,
        Body: await readFile(bundle),
      }),
    );
    await page.goto(`${stack.services.api.dashboardUrl}#/runs?app=${app}`);
    const link = page.locator("tr[data-run] a[href^='#/runs/']").first();
    await link.click();
    const group = page.locator("[data-group=web-prod]");
    // The group is on the page from the first draw, with no rows until the run's deployment
    // starts; a host's row shows the revision once that host has it.
    const deployed = group.locator("tbody tr").filter({ hasText: /Succeeded.*1\.4\.0/ });
    await deployed.nth(1).waitFor({ timeout: 20_000 });
    const rows = await group.locator("tbody tr").allTextContents();
    expect(rows).toHaveLength(2);
    for (const row of rows) expect(row).toMatch(/Succeeded.*1\.4\.0/);

    // The app's delivery metrics, beside its runs: the one production deployment just made.
    await page.goto(`${stack.endpoints.api}/ui#/runs?app=${app}`);
    const delivery = page.locator("[data-section=delivery]");
    await delivery.waitFor();
    expect(await delivery.textContent()).toMatch(
      /Deployment frequency.*\(1 successful production deployment\)/,
    );
    expect(await delivery.textContent()).toMatch(/Change lead timemedian .+? over 1 release(?!s)/);
    expect(await delivery.textContent()).toContain("Change fail rate0% (0 of 1)");
    expect(pageErrors).toEqual([]);
  });
});

describe("signing in with the team's OIDC provider", () => {
  const ISSUER = "https://id.example.test";

  afterAll(() => {
    delete process.env.SLUICE_OIDC_ISSUER;
    delete process.env.SLUICE_OIDC_CLIENT_ID;
  });

  it("goes through the provider with PKCE and calls the people's routes with the ID token", async () => {
    // The dashboard function reads its sign-in settings per request, as deployed with them.
    process.env.SLUICE_OIDC_ISSUER = ISSUER;
    process.env.SLUICE_OIDC_CLIENT_ID = "dashboard-client";
    const claims = { iss: ISSUER, aud: "dashboard-client", email: ME, sub: "00u1" };
    const idToken = `e30.${Buffer.from(JSON.stringify(claims)).toString("base64url")}.sig`;
    // A context of its own, with no token kept; it goes when the browser does (this one-process
    // Chromium does not outlive closing a context).
    const tab = await (await browser.newContext()).newPage();
    let challenge: string | null = null;
    let verifier: string | null = null;
    const cors = { "access-control-allow-origin": "*" };
    // The provider, as a browser meets it: discovery, the sign-in redirect, the token endpoint.
    await tab.route(`${ISSUER}/**`, async (route) => {
      const url = new URL(route.request().url());
      if (url.pathname === "/.well-known/openid-configuration") {
        return route.fulfill({
          headers: cors,
          json: {
            authorization_endpoint: `${ISSUER}/authorize`,
            token_endpoint: `${ISSUER}/token`,
          },
        });
      }
      if (url.pathname === "/authorize") {
        expect(url.searchParams.get("code_challenge_method")).toBe("S256");
        expect(url.searchParams.get("client_id")).toBe("dashboard-client");
        challenge = url.searchParams.get("code_challenge");
        const back = new URL(String(url.searchParams.get("redirect_uri")));
        back.search = new URLSearchParams({
          code: "the-code",
          state: String(url.searchParams.get("state")),
        }).toString();
        return route.fulfill({ status: 302, headers: { location: back.toString() } });
      }
      const form = new URLSearchParams(route.request().postData() ?? "");
      expect(form.get("code")).toBe("the-code");
      verifier = form.get("code_verifier");
      return route.fulfill({ headers: cors, json: { id_token: idToken, token_type: "Bearer" } });
    });
    const sent: (string | undefined)[] = [];
    await tab.route(`${stack.endpoints.api}/api/**`, (route) => {
      sent.push(route.request().headers().authorization);
      return route.fulfill({ json: { runs: [] } });
    });

    await tab.goto(`${stack.endpoints.api}/ui#/runs?app=shop`);
    await tab.click("text=Sign in with your team's account");
    await tab.locator("h1", { hasText: "Runs of shop" }).waitFor();

    expect(createHash("sha256").update(String(verifier)).digest("base64url")).toBe(challenge);
    expect(sent.at(-1)).toBe(`Bearer ${idToken}`);
    expect(tab.url()).toBe(`${stack.endpoints.api}/ui#/runs?app=shop`);
  });
});
