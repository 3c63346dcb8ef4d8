import { AwsServiceError } from "../aws-json-server";

/**
 * CloudWatch's error shapes (the awsJson1_0 `__type`, which names the SDK's exception class)
 * and the code its query protocol gives each, which the JSON answer carries too, in the
 * query-compatible `x-amzn-query-error: <code>;<Sender|Receiver>` header the SDK reads first.
 */
const QUERY_CODES: Readonly<Record<string, string>> = {
  ResourceNotFound: "ResourceNotFound",
  InvalidParameterValueException: "InvalidParameterValue",
  InvalidParameterCombinationException: "InvalidParameterCombination",
  MissingRequiredParameterException: "MissingParameter",
  InvalidNextToken: "InvalidNextToken",
  InvalidFormatFault: "InvalidFormat",
  LimitExceededFault: "LimitExceeded",
  ValidationException: "ValidationError",
  InternalServiceFault: "InternalServiceError",
};

/** The query protocol's code of an error; an injected one (Throttling, say) is its own code. */
export function queryCode(error: AwsServiceError): string {
  return QUERY_CODES[error.type] ?? error.type;
}

/** Who the query protocol blames: the caller for a 4xx, the service for a 5xx. */
export function faultOf(error: AwsServiceError): "Sender" | "Receiver" {
  return error.statusCode >= 500 ? "Receiver" : "Sender";
}

export function queryErrorHeader(error: AwsServiceError): Record<string, string> {
  return { "x-amzn-query-error": `${queryCode(error)};${faultOf(error)}` };
}

export const validationError = (message: string) =>
  new AwsServiceError("ValidationException", message);
export const resourceNotFound = (message: string) =>
  new AwsServiceError("ResourceNotFound", message, 404);
export const invalidParameterValue = (message: string) =>
  new AwsServiceError("InvalidParameterValueException", message);
export const invalidParameterCombination = (message: string) =>
  new AwsServiceError("InvalidParameterCombinationException", message);
export const invalidFormat = (message: string) =>
  new AwsServiceError("InvalidFormatFault", message);
export const invalidNextToken = () =>
  new AwsServiceError("InvalidNextToken", "The service cannot read the NextToken given.");
