/** Step Functions' optimised Lambda integration, plain and with a callback task token. */
export const LAMBDA_INVOKE = "arn:aws:states:::lambda:invoke";
export const LAMBDA_INVOKE_CALLBACK = "arn:aws:states:::lambda:invoke.waitForTaskToken";

/** What a Task state calls: a function of serverless.yml, or an AWS service integration. */
export type TaskTarget =
  /** `Resource: {Fn::GetAtt: [fn, Arn]}`: the function's result is the task's result. */
  | { kind: "function"; name: string }
  /** `Resource: arn:aws:states:::lambda:invoke[.waitForTaskToken]` with a static FunctionName. */
  | { kind: "lambda-invoke"; name: string; resource: string; callback: boolean }
  | { kind: "integration"; resource: string };

/**
 * serverless.yml's state machines name functions with `Fn::GetAtt: [function, Arn]` (as a
 * Resource, or as a `lambda:invoke` FunctionName) and service integrations by their
 * `arn:aws:states:::` resource. This swaps each function reference for the function's ARN and
 * reports what every Task state calls, so a definition can be validated and run outside
 * CloudFormation. A task calling anything else is an error here, not a surprise at run time.
 */
export function bindTasks(
  definition: unknown,
  arnOf: (functionName: string) => string | undefined,
  integrations: ReadonlySet<string>,
): { definition: unknown; tasks: Map<string, TaskTarget> } {
  const tasks = new Map<string, TaskTarget>();
  const seen = new Set<string>();
  const resolve = (node: unknown, where: string): unknown => {
    if (Array.isArray(node)) return node.map((n) => resolve(n, where));
    if (node === null || typeof node !== "object") return node;
    const fn = functionReference(node);
    if (fn !== undefined) {
      const arn = arnOf(fn);
      if (!arn) throw new Error(`${where}: Fn::GetAtt names no function ${fn} of serverless.yml`);
      return arn;
    }
    return Object.fromEntries(
      Object.entries(node).map(([key, value]) => [
        key,
        key === "States" ? bindStates(value) : resolve(value, where),
      ]),
    );
  };
  const bindStates = (states: unknown): unknown => {
    if (!states || typeof states !== "object") throw new Error("States must be an object");
    return Object.fromEntries(
      Object.entries(states).map(([name, state]) => {
        if (seen.has(name)) throw new Error(`state name ${name} is used twice`);
        seen.add(name);
        if (isTask(state)) tasks.set(name, targetOf(name, state, arnOf, integrations));
        return [name, resolve(state, `state ${name}`)];
      }),
    );
  };
  return { definition: resolve(definition, "definition"), tasks };
}

function targetOf(
  stateName: string,
  state: Record<string, unknown>,
  arnOf: (functionName: string) => string | undefined,
  integrations: ReadonlySet<string>,
): TaskTarget {
  const resource = state.Resource;
  if (resource === LAMBDA_INVOKE || resource === LAMBDA_INVOKE_CALLBACK) {
    const name = invokedFunction(stateName, state.Parameters, arnOf);
    return { kind: "lambda-invoke", name, resource, callback: resource === LAMBDA_INVOKE_CALLBACK };
  }
  if (typeof resource === "string" && integrations.has(resource)) {
    return { kind: "integration", resource };
  }
  const fn = resource && typeof resource === "object" ? functionReference(resource) : undefined;
  if (!fn || !arnOf(fn)) {
    throw new Error(
      `state ${stateName}: Resource ${JSON.stringify(resource)} names no function or known integration`,
    );
  }
  return { kind: "function", name: fn };
}

/** The function a `lambda:invoke` task names, by `Fn::GetAtt`, name or ARN; never a path. */
function invokedFunction(
  stateName: string,
  parameters: unknown,
  arnOf: (functionName: string) => string | undefined,
): string {
  const params = (parameters && typeof parameters === "object" ? parameters : {}) as Record<
    string,
    unknown
  >;
  const raw = params.FunctionName;
  const name =
    raw && typeof raw === "object"
      ? functionReference(raw)
      : typeof raw === "string"
        ? (raw.match(/:function:([^:]+)/)?.[1] ?? raw)
        : undefined;
  if (!name || !arnOf(name)) {
    const why =
      "FunctionName.$" in params
        ? "a FunctionName chosen at run time cannot be checked locally"
        : `FunctionName ${JSON.stringify(raw)} names no function of serverless.yml`;
    throw new Error(`state ${stateName}: ${why}`);
  }
  return name;
}

function isTask(state: unknown): state is Record<string, unknown> {
  return !!state && typeof state === "object" && (state as { Type?: unknown }).Type === "Task";
}

function functionReference(value: object): string | undefined {
  const getAtt = (value as Record<string, unknown>)["Fn::GetAtt"];
  if (Array.isArray(getAtt) && getAtt[1] === "Arn" && typeof getAtt[0] === "string") {
    return getAtt[0];
  }
  return undefined;
}
