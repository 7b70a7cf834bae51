/**
 * Loads the live view module (and with it ink and React) on demand. React chooses its development or
 * production build from `NODE_ENV` when it is first loaded, and the development build is several times
 * slower to draw; so unless the user set `NODE_ENV`, it is `production` while the view loads, and put
 * back afterwards (task processes inherit the environment and must not see a value nobody set).
 */
import { existsSync } from "node:fs";

export async function loadLiveView(): Promise<typeof import("./live-view.js")> {
  const before = process.env.NODE_ENV;
  if (before === undefined) process.env.NODE_ENV = "production";
  try {
    // The build's one-file bundle of the view with ink and React (scripts/bundle-live-view.mjs) loads
    // five times faster than the modules one by one; without it (running from source), the modules.
    // Both found from this module's URL, which is dist/ui/ or, in the CLI's bundle, dist/bundle/.
    const bundle = new URL("../ui/live-view.bundle.js", import.meta.url);
    const modules = new URL("../ui/live-view.js", import.meta.url);
    return (await import(existsSync(bundle) ? bundle.href : modules.href)) as typeof import("./live-view.js");
  } finally {
    if (before === undefined) delete process.env.NODE_ENV;
  }
}
