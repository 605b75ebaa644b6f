// Integration setup, once per run: a staged copy of the built nook, the test
// users, and a real registry (Debian's docker-registry on 127.0.0.1) seeded
// with fixture images that skopeo and umoci built from local files.
import type { TestProject } from "vitest/node";
import { buildFixtures, seedRegistry, startRegistry, type Registry } from "./registry.js";
import { stageNook, unstage } from "./stage.js";
import { findTestUsers, type Availability } from "./users.js";

declare module "vitest" {
  export interface ProvidedContext {
    stage: string;
    registry: string;
    fixtures: string;
    users: { sub: Availability; nosub: Availability };
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const stage = stageNook();
  let registry: Registry | undefined;
  try {
    const fixtures = await buildFixtures();
    registry = await startRegistry();
    await seedRegistry(registry, fixtures);
    project.provide("stage", stage);
    project.provide("registry", registry.host);
    project.provide("fixtures", fixtures);
    project.provide("users", findTestUsers());
  } catch (e) {
    await registry?.stop();
    unstage(stage);
    throw e;
  }
  return async () => {
    await registry?.stop();
    unstage(stage);
  };
}
