// The generated API types must match the backend's current OpenAPI: regenerate with `npm run gen:api`.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";

// @ts-expect-error - a plain .mjs script without types
import { generate, OUTPUT } from "../scripts/gen-api.mjs";

describe("lib/api/schema.d.ts", () => {
  it("is up to date with the backend's OpenAPI", async () => {
    const fresh = await generate();
    expect(readFileSync(OUTPUT, "utf8") === fresh, "schema.d.ts is stale: run npm run gen:api").toBe(true);
  }, 60_000);
});
