import { describe, expect, it } from "vitest";
import { chooseCachedResults, parseGcPolicy } from "../../src/core/gc-policy.js";
import { UsageError } from "../../src/core/errors.js";

describe("19.6 gc policy", () => {
  it("19.6 reads ages in s, m, h, d and sizes in bytes or powers of 1024", () => {
    expect(parseGcPolicy({ keepAge: "7d" })).toEqual({ keepAgeMs: 7 * 86_400_000 });
    expect(parseGcPolicy({ keepAge: "0s", maxSize: "500M" })).toEqual({ keepAgeMs: 0, maxBytes: 500 * 1024 ** 2 });
    expect(parseGcPolicy({ maxSize: "1.5GiB" })).toEqual({ maxBytes: 1.5 * 1024 ** 3 });
    expect(parseGcPolicy({ maxSize: "4096" })).toEqual({ maxBytes: 4096 });
    expect(parseGcPolicy({ maxSize: "10kb" })).toEqual({ maxBytes: 10240 });
    for (const bad of [{ keepAge: "7x" }, { keepAge: "7" }, { keepAge: "-1d" }, { maxSize: "lots" }, { maxSize: "5Q" }, { maxSize: "" }]) {
      expect(() => parseGcPolicy(bad)).toThrow(UsageError);
    }
  });

  it("19.6 keeps the most recently used results while they fit, and none older than the age", () => {
    const c = (key: string, lastUsed: number, digest: string, size: number) => ({ key, lastUsed, blobs: [{ digest, size }] });
    const candidates = [c("old", 100, "x", 10), c("new", 300, "y", 10), c("mid", 200, "z", 10), c("shares", 150, "kept", 50)];
    // 50 bytes are bound already. With 20 more: "new", "mid", then "shares" (its blob is kept anyway,
    // so it costs nothing); "old" does not fit. With 15 more: "new" only, and the choice stops at "mid".
    expect(chooseCachedResults(candidates, { maxBytes: 70 }, new Map([["kept", 50]]), 1000)).toEqual(["new", "mid", "shares"]);
    expect(chooseCachedResults(candidates, { maxBytes: 65 }, new Map([["kept", 50]]), 1000)).toEqual(["new"]);
    expect(chooseCachedResults(candidates, { keepAgeMs: 850 }, new Map(), 1000)).toEqual(["new", "mid"]);
    expect(chooseCachedResults(candidates, { keepAgeMs: 0 }, new Map(), 1000)).toEqual([]);
  });
});
