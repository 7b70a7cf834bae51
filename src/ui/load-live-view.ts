/**
 * Loads the live view module (and with it ink and React) on demand. React chooses its development or
 * production build from `NODE_ENV` when it is first loaded, and the development build is several times
 * slower to draw; so unless the user set `NODE_ENV`, it is `production` while the view loads, and put
 * back afterwards (task processes inherit the environment and must not see a value nobody set).
 */
export async function loadLiveView(): Promise<typeof import("./live-view.js")> {
  const before = process.env.NODE_ENV;
  if (before === undefined) process.env.NODE_ENV = "production";
  try {
    return await import("./live-view.js");
  } finally {
    if (before === undefined) delete process.env.NODE_ENV;
  }
}
