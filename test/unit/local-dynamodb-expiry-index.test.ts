import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ExpiryIndex } from "../../local/dynamodb/expiry-index";

const NOW = 2_000_000_000;

describe("the local DynamoDB's expiry index", () => {
  it("hands out exactly the items whose latest time to live is past, each once", () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            item: fc.integer({ min: 0, max: 20 }),
            // undefined: the item was deleted, or lost its TTL attribute
            expiresAt: fc.option(fc.integer({ min: NOW - 100, max: NOW + 100 }), {
              nil: undefined,
            }),
          }),
        ),
        (writes) => {
          // Prepare
          const index = new ExpiryIndex();
          const latest = new Map<number, number | undefined>();
          for (const { item, expiresAt } of writes) {
            const image =
              expiresAt === undefined ? undefined : { expiresAt: { N: String(expiresAt) } };
            index.note(`lock-${item}`, "table", { id: { N: String(item) } }, image, "expiresAt");
            latest.set(item, expiresAt);
          }

          // Act
          const due = index.takeDue(NOW).map((entry) => Number(entry.key.id?.N));
          const again = index.takeDue(NOW);

          // Assess
          const expected = [...latest]
            .filter(([, at]) => at !== undefined && at < NOW)
            .map(([i]) => i);
          expect(due.sort((a, b) => a - b)).toEqual(expected.sort((a, b) => a - b));
          expect(again).toEqual([]);
        },
      ),
    );
  });

  it("leaves alone items whose time to live is more than five years past, as DynamoDB does", () => {
    // Prepare
    const index = new ExpiryIndex();
    const sixYears = 6 * 365 * 24 * 60 * 60;
    index.note("old", "table", { id: { S: "old" } }, { ttl: { N: String(NOW - sixYears) } }, "ttl");
    index.note("ms", "table", { id: { S: "ms" } }, { ttl: { N: String(NOW * 1000) } }, "ttl");
    index.note("text", "table", { id: { S: "text" } }, { ttl: { S: "yesterday" } }, "ttl");

    // Act
    const due = index.takeDue(NOW);

    // Assess
    expect(due).toEqual([]);
  });
});
