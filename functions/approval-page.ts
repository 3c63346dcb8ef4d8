import middy from "@middy/core";
import { linkPorts } from "../adapters/approval-ports";
import { BadRequestError, isTransientAwsError, SluiceError } from "../domain/errors";
import { type ApiEvent, type ApiResult, bodyText, httpStatusOf, pathParameter } from "../http/api";
import { approvalPage, decisionPage, refusalPage } from "../http/approval-page";
import { logger } from "../http/logger";
import { decideByLink, linkDecision, viewLink } from "../usecases/approval";

/**
 * GET, HEAD and POST /approvals/{token}: an approver's personal link. GET and HEAD show the
 * approval and decide nothing (mail scanners and chat unfurlers fetch every link they see);
 * only the page's form, POSTed, decides. Every answer is a page, refusals too. The token is
 * the path: it is never logged (the route is, as its template).
 */
export const handler = middy<ApiEvent, ApiResult>(async (event: ApiEvent): Promise<ApiResult> => {
  try {
    const token = pathParameter(event, "token");
    const ports = linkPorts();
    if (event.requestContext.http.method !== "POST")
      return approvalPage(await viewLink(ports, token));
    const { decision, comment } = linkDecision(formOrJson(event));
    return decisionPage(await decideByLink(ports, token, decision, comment));
  } catch (err) {
    if (err instanceof SluiceError && err.expose) {
      const status = httpStatusOf(err);
      logger.info("approval link refused", { status, reason: err.message, route: event.routeKey });
      return refusalPage(status, err.message);
    }
    const transient = isTransientAwsError(err) || err instanceof SluiceError;
    logger[transient ? "warn" : "error"]("approval link failed", {
      error: err,
      route: event.routeKey,
    });
    return refusalPage(
      transient ? 503 : 500,
      transient
        ? "A service Sluice relies on is unavailable; try again in a moment."
        : "Something went wrong on Sluice's side.",
    );
  }
});

function formOrJson(event: ApiEvent): unknown {
  const text = bodyText(event);
  const type = (event.headers["content-type"] ?? "").toLowerCase();
  if (type.startsWith("application/json")) {
    try {
      return JSON.parse(text);
    } catch {
      throw new BadRequestError("the request body is not valid JSON");
    }
  }
  return Object.fromEntries(new URLSearchParams(text));
}
