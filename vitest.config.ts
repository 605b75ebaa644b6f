import { defineConfig } from "vitest/config";

// Three projects (DESIGN.md section 6): unit tests are pure or use fakes and run
// in parallel; integration tests run the built CLI as unprivileged users
// against a real registry and real host tools, one file at a time since they
// share the registry and the test users; vm tests run it in a systemd guest
// under qemu (../shared/vm/), where cgroup v2 delegation exists.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: "unit",
          include: ["test/unit/**/*.test.ts"],
          // clipanion 3's ESM build imports a directory, which Node's ESM loader refuses.
          server: { deps: { inline: ["clipanion"] } },
        },
      },
      {
        test: {
          name: "integration",
          include: ["test/integration/**/*.test.ts"],
          globalSetup: ["test/support/global-setup.ts"],
          fileParallelism: false,
          testTimeout: 120_000,
          hookTimeout: 300_000,
        },
      },
      {
        test: {
          name: "vm",
          include: ["test/vm/**/*.test.ts"],
          globalSetup: ["test/vm/setup.ts"],
          fileParallelism: false,
          testTimeout: 600_000,
          hookTimeout: 1_800_000,
        },
      },
    ],
  },
});
