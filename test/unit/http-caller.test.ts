import { describe, expect, it } from "vitest";
import { type ApiEvent, actorOf, callerOf } from "../../http/api";

/** An event as API Gateway hands it over with its authorizer's context. */
function authorized(authorizer: unknown): ApiEvent {
  return { requestContext: { authorizer } } as unknown as ApiEvent;
}

describe("the caller of an API route", () => {
  it("is the person a JWT names, by email, else by sub", () => {
    const person = authorized({ jwt: { claims: { email: "ana@example.com", sub: "00u1" } } });
    expect(callerOf(person)).toEqual({ via: "oidc", email: "ana@example.com", sub: "00u1" });
    expect(actorOf(person)).toBe("ana@example.com");
    const anonymous = authorized({ jwt: { claims: { sub: "00u2" } } });
    expect(callerOf(anonymous)).toEqual({ via: "oidc", sub: "00u2" });
    expect(actorOf(anonymous)).toBe("00u2");
  });

  it("is the IAM principal that signed the request", () => {
    const signed = authorized({ iam: { userArn: "arn:aws:iam::1:user/bo", accessKey: "AKIA" } });
    expect(callerOf(signed)).toEqual({ via: "api", principal: "arn:aws:iam::1:user/bo" });
    expect(actorOf(signed)).toBe("arn:aws:iam::1:user/bo");
  });
});
