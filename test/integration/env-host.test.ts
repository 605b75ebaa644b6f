// --env-host as the unprivileged test user: the caller's environment over
// the image's, -e over both, and nook's own variables kept out.
import { afterAll, beforeAll, expect, inject, it } from "vitest";
import { describeAs } from "../support/nook.js";
import { freshStore, type TestStore } from "../support/store.js";

const bb = (): string => `${inject("registry")}/busybox`;

describeAs("sub", "--env-host", (user) => {
  let s: TestStore;
  beforeAll(async () => {
    s = await freshStore(user());
    expect((await s.nook(["pull", "-q", bb()])).code).toBe(0);
  });
  afterAll(async () => s.remove());

  it("gives the container the caller's environment, -e still winning", async () => {
    const env = { JOB_ID: "4242", SCRATCH: "/scratch/me", OVERRIDDEN: "host" };
    const script = 'echo "$JOB_ID $SCRATCH $OVERRIDDEN $USER"; env | grep -c "^_NOOK_" || true';
    const r = await s.nook(["run", "--rm", "--env-host", "-e", "OVERRIDDEN=flag", bb(), "sh", "-c", script], {
      env,
    });
    expect(r.stderr).toBe("");
    expect(r.stdout).toBe(`4242 /scratch/me flag ${user().name}\n0\n`);
    const without = await s.nook(["run", "--rm", bb(), "sh", "-c", 'echo "[$JOB_ID]"'], { env });
    expect(without.stdout).toBe("[]\n");
  });
});
