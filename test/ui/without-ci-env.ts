/**
 * Imported first by tests that draw the live view through a fake terminal: ink decides once, when it is
 * loaded, whether it runs in CI (and then only prints the last frame), so the CI variables of the
 * machine running the tests must be gone before ink is imported.
 */
for (const key of Object.keys(process.env)) {
  if (key === "CI" || key === "CONTINUOUS_INTEGRATION" || key.startsWith("CI_")) delete process.env[key];
}
