// A copy of the built nook that the unprivileged test users can read and run:
// the checkout may sit in a directory they cannot enter (root's home on CI).
// Holds exactly what an installed nook needs: the bundle, the helper and
// koffi (a native module, kept out of the bundle).
import { cpSync, existsSync, mkdtempSync, readdirSync, rmSync, chmodSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const repo = fileURLToPath(new URL("../..", import.meta.url));

export const stageNook = (): string => {
  for (const f of ["nook", "nook.cjs", "nook-helper", "package.json"])
    if (!existsSync(join(repo, "dist", f)))
      throw new Error(`dist/${f} is missing: build first with npm run build (scripts/test.sh does)`);
  const stage = mkdtempSync("/tmp/nook-test-");
  chmodSync(stage, 0o755);
  cpSync(join(repo, "dist"), join(stage, "dist"), { recursive: true });
  const modules = join(repo, "node_modules");
  cpSync(join(modules, "koffi"), join(stage, "node_modules", "koffi"), { recursive: true });
  for (const pkg of readdirSync(join(modules, "@koromix")))
    cpSync(join(modules, "@koromix", pkg), join(stage, "node_modules", "@koromix", pkg), { recursive: true });
  chmodRecursive(stage);
  return stage;
};

const chmodRecursive = (dir: string): void => {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) {
      chmodSync(p, 0o755);
      chmodRecursive(p);
    } else if (entry.isFile()) {
      chmodSync(p, /\/(nook|nook-helper|nook-runtime)$/.test(p) ? 0o755 : 0o644);
    }
  }
};

export const unstage = (stage: string): void => rmSync(stage, { recursive: true, force: true });
