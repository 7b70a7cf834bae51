/** A real terminal for the tests of what a person sees: a tmux session, its screen, and waiting on it. */
import { execFileSync } from "node:child_process";

export const tmux = (...args: string[]): string => execFileSync("tmux", args, { encoding: "utf8" });

/** The text on the screen of tmux session `session`. */
export const screenOf = (session: string): string => tmux("capture-pane", "-p", "-t", session);

/** Waits (60 s at most) until the screen of `session` shows `text`; the screen then. */
export async function showsOn(session: string, text: string | RegExp): Promise<string> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const shown = screenOf(session);
    if (typeof text === "string" ? shown.includes(text) : text.test(shown)) return shown;
    if (Date.now() > deadline) throw new Error(`the terminal never showed ${String(text)}:\n${shown}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
