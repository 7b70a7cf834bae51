import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts", "test/**/*.test.tsx"],
    pool: "forks",
    // Stops the one-host Slurm the Slurm tests started (test/helpers/slurm.ts).
    globalSetup: ["test/slurm-global-setup.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
