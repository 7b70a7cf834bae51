import { describe, expect, it } from "vitest";
import { formatDuration } from "../../src/ui/format-duration.js";
import { formatQuantumName } from "../../src/ui/format-quantum-name.js";
import { formatTable } from "../../src/ui/format-table.js";
import { stripEscapes } from "../../src/ui/strip-escapes.js";
import { truncateText } from "../../src/ui/truncate-text.js";

describe("formatters", () => {
  it("formatDuration: short, aligned forms", () => {
    expect([0, 49, 950, 3210, 59_949, 59_950, 61_000, 3_599_000, 3_600_000, 7_620_000, -5, NaN].map(formatDuration)).toEqual([
      "0.0s", "0.0s", "0.9s", "3.2s", "59.9s", "1m00s", "1m01s", "59m59s", "1h00m", "2h07m", "0.0s", "0.0s",
    ]);
  });

  it("formatQuantumName: task@dataId, or the task alone for an empty data ID", () => {
    expect(formatQuantumName({ task: "calibrate", dataId: "visit=12,detector=3" })).toBe("calibrate@visit=12,detector=3");
    expect(formatQuantumName({ task: "link", dataId: "" })).toBe("link");
  });

  it("truncateText: cuts with an ellipsis, never past the width", () => {
    expect(truncateText("abcdef", 6)).toBe("abcdef");
    expect(truncateText("abcdef", 4)).toBe("abc…");
    expect(truncateText("abcdef", 1)).toBe("…");
    expect(truncateText("abcdef", 0)).toBe("");
  });

  it("formatTable: aligns columns and shrinks the first to fit", () => {
    const rows = [["a-very-long-task-label", "1", "22"], ["b", "333", "4"]];
    expect(formatTable({ header: ["task", "x", "y"], rows })).toEqual([
      "task                      x   y",
      "a-very-long-task-label    1  22",
      "b                       333   4",
    ]);
    const narrow = formatTable({ header: ["task", "x", "y"], rows, maxWidth: 16 });
    expect(narrow[1]).toBe("a-very…    1  22");
    for (const line of narrow) expect(line.length).toBeLessThanOrEqual(16);
  });

  it("stripEscapes: removes colours, cursor moves, titles and control characters", () => {
    expect(stripEscapes("\u001b[31mred\u001b[0m \u001b[2Kx\u001b]0;title\u0007\r\u0008y\tz")).toBe("red xy\tz");
  });
});
