import { describe, expect, it } from "vitest";
import { EVENTS_VERSION } from "../../src/core/events.js";
import { createJsonReporter } from "../../src/ui/json-reporter.js";
import { collectOutput } from "./collect-output.js";
import { sampleRun } from "./sample-events.js";

describe("createJsonReporter", () => {
  it("writes every event as one parseable line, in order, and nothing else", async () => {
    const output = collectOutput();
    const reporter = createJsonReporter({ out: output.out });
    const events = sampleRun();
    for (const event of events) reporter.onEvent(event);
    await reporter.close();
    expect(output.text().endsWith("\n")).toBe(true);
    const lines = output.lines();
    expect(lines).toHaveLength(events.length);
    const parsed = lines.map((line) => JSON.parse(line));
    expect(parsed).toEqual(events);
    for (const p of parsed) {
      expect(p.v).toBe(EVENTS_VERSION);
      expect(typeof p.event).toBe("string");
      expect(typeof p.time).toBe("number");
    }
    expect(parsed.at(-1)).toMatchObject({ event: "run-finished", counts: { ran: 3, upToDate: 2, failed: 1, blocked: 2 } });
  });

  it("keeps a log line's escape codes inside the JSON string, never raw on the stream", async () => {
    const output = collectOutput();
    const reporter = createJsonReporter({ out: output.out });
    for (const event of sampleRun()) reporter.onEvent(event);
    await reporter.close();
    expect(output.text()).not.toMatch(/\u001b/);
    expect(output.text()).toContain("\\u001b[31mthreshold=-1");
  });
});
