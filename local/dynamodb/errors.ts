/** An answer DynamoDB gives as an error: its HTTP status and its JSON body (`__type`, `message`). */
export class DynamoDbError extends Error {
  constructor(
    readonly statusCode: number,
    readonly body: Record<string, unknown>,
  ) {
    super(String(body.message ?? body.Message ?? body.__type));
    this.name = DynamoDbError.shortName(body.__type);
  }

  /** `com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException` → its last part. */
  static shortName(type: unknown): string {
    const text = String(type ?? "");
    return text.slice(text.lastIndexOf("#") + 1);
  }
}

/** An error of DynamoDB's own namespace, spelt as DynamoDB (and dynalite) put it on the wire. */
export function serviceError(
  name: string,
  message: string,
  extra: Record<string, unknown> = {},
): DynamoDbError {
  return new DynamoDbError(400, {
    __type: `com.amazonaws.dynamodb.v20120810#${name}`,
    message,
    ...extra,
  });
}

export function validationError(message: string): DynamoDbError {
  return new DynamoDbError(400, {
    __type: "com.amazon.coral.validate#ValidationException",
    message,
  });
}
