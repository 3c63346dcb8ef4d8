import { describe, expect, it } from "vitest";
import { dashboardFile } from "../../http/dashboard";

describe("the dashboard's files", () => {
  it("are the page and its modules, under a policy that runs only their own scripts", () => {
    const page = dashboardFile(undefined, {});
    expect(page?.body).toContain('<script type="module" src="/ui/app.js"></script>');
    const policy = String(page?.headers?.["content-security-policy"]);
    expect(policy).toContain("default-src 'none'");
    expect(policy).toContain("script-src 'self';");
    expect(policy).toContain("connect-src 'self';");
    expect(policy).toContain("frame-ancestors 'none'");
    expect(dashboardFile("api.js", {})?.headers?.["content-type"]).toMatch(/^text\/javascript/);
    expect(dashboardFile("../serverless.yml", {})).toBeUndefined();
    expect(dashboardFile("nothing.js", {})).toBeUndefined();
  });

  it("tell the page how to sign in, and let it talk to the provider, when one is set", () => {
    const env = {
      SLUICE_OIDC_ISSUER: "https://id.example.com/oauth2",
      SLUICE_OIDC_CLIENT_ID: "abc",
    };
    const config = dashboardFile("config.json", env);
    expect(JSON.parse(String(config?.body))).toEqual({
      signIn: { issuer: "https://id.example.com/oauth2", clientId: "abc" },
    });
    expect(config?.headers?.["content-security-policy"]).toContain(
      "connect-src 'self' https://id.example.com;",
    );
    expect(JSON.parse(String(dashboardFile("config.json", {})?.body))).toEqual({ signIn: null });
  });
});
