/** What a Task state calls: a function of serverless.yml, or an AWS service integration. */
export type TaskTarget =
  | { kind: "function"; name: string }
  | { kind: "integration"; resource: string };

/**
 * serverless.yml's state machines name their Lambda tasks with `Fn::GetAtt: [function, Arn]`
 * and service integrations by their `arn:aws:states:::` resource. This swaps each function
 * reference for the function's ARN and reports what every Task state calls, so a definition can
 * be validated and run outside CloudFormation. A task calling anything else is an error here,
 * not a surprise at run time.
 */
export function bindTasks(
  definition: unknown,
  arnOf: (functionName: string) => string | undefined,
  integrations: ReadonlySet<string>,
): { definition: unknown; tasks: Map<string, TaskTarget> } {
  const tasks = new Map<string, TaskTarget>();
  const walk = (node: unknown, stateName?: string): unknown => {
    if (Array.isArray(node)) return node.map((n) => walk(n));
    if (node === null || typeof node !== "object") return node;
    const out: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(node)) {
      if (key === "States" && value && typeof value === "object") {
        out[key] = Object.fromEntries(
          Object.entries(value).map(([name, state]) => {
            if (tasks.has(name)) throw new Error(`state name ${name} is used twice`);
            return [name, walk(state, name)];
          }),
        );
      } else if (key === "Resource" && stateName) {
        if (typeof value === "string" && integrations.has(value)) {
          tasks.set(stateName, { kind: "integration", resource: value });
          out[key] = value;
          continue;
        }
        const fn = value && typeof value === "object" ? functionReference(value) : undefined;
        const arn = fn ? arnOf(fn) : undefined;
        if (!fn || !arn) {
          throw new Error(
            `state ${stateName}: Resource ${JSON.stringify(value)} names no function or known integration`,
          );
        }
        tasks.set(stateName, { kind: "function", name: fn });
        out[key] = arn;
      } else {
        out[key] = walk(value);
      }
    }
    return out;
  };
  return { definition: walk(definition), tasks };
}

function functionReference(value: object): string | undefined {
  const getAtt = (value as Record<string, unknown>)["Fn::GetAtt"];
  if (Array.isArray(getAtt) && getAtt[1] === "Arn" && typeof getAtt[0] === "string") {
    return getAtt[0];
  }
  return undefined;
}
