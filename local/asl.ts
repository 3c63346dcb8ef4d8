/**
 * serverless.yml's state machines name their Lambda tasks with `Fn::GetAtt: [function, Arn]`.
 * This swaps each reference for the function's ARN and reports which task state calls which
 * function, so a definition can be validated and run outside CloudFormation.
 */
export function bindFunctionArns(
  definition: unknown,
  arnOf: (functionName: string) => string | undefined,
): { definition: unknown; tasks: Map<string, string> } {
  const tasks = new Map<string, string>();
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
      } else if (key === "Resource" && stateName && value && typeof value === "object") {
        const fn = functionReference(value);
        const arn = fn ? arnOf(fn) : undefined;
        if (!fn || !arn) {
          throw new Error(
            `state ${stateName}: Resource ${JSON.stringify(value)} names no function`,
          );
        }
        tasks.set(stateName, fn);
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
