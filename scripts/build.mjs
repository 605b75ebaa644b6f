// Builds nook: the C helper (native/ -> dist/nook-helper) with the system's C
// compiler, and the CLI bundle (src/ -> dist/nook.mjs and dist/chunks/, run as dist/nook) with esbuild. Run by
// `npm install` / `npm ci` through the `prepare` script, and by `npm run build`.
//
// One bundled file because start-up time is a feature: Node resolving and
// compiling hundreds of module files costs far more than parsing one file.
import { execFileSync, spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const dist = join(root, "dist");
const only = process.argv[2]; // "native" | "ts" | undefined (both)

function fail(message) {
  process.stderr.write(`nook build: ${message}\n`);
  process.exit(1);
}

function buildNative() {
  const cc = process.env.CC || "cc";
  const probe = spawnSync(cc, ["--version"], { stdio: "ignore" });
  if (probe.error || probe.status !== 0) {
    fail(
      `no C compiler found (tried "${cc}"): nook-helper is C and is built at install time.\n` +
        `  Debian/Ubuntu: sudo apt-get install gcc libc6-dev\n` +
        `  Fedora/RHEL:   sudo dnf install gcc glibc-devel\n` +
        `  or set CC to your compiler and run npm run build again.`,
    );
  }
  const srcDir = join(root, "native", "src");
  const sources = readdirSync(srcDir)
    .filter((f) => f.endsWith(".c"))
    .sort()
    .map((f) => join(srcDir, f));
  const out = join(dist, "nook-helper");
  const tmp = `${out}.tmp-${process.pid}`;
  const flags = ["-std=c11", "-O2", "-g", "-Wall", "-Wextra", "-Werror", "-D_FORTIFY_SOURCE=2"];
  const res = spawnSync(cc, [...flags, "-o", tmp, ...sources], { stdio: "inherit" });
  if (res.status !== 0) fail(`compiling native/ failed (${cc} exited with ${res.status})`);
  chmodSync(tmp, 0o755);
  renameSync(tmp, out);
}

// fp-ts and io-ts ship ES modules beside their CommonJS: bundling those lets
// esbuild keep only what nook uses, where the CommonJS build of TaskEither
// alone drags in two dozen modules, all evaluated at start-up (measured: the
// run command's code loaded in ~60 ms before this).
const esModules = {
  name: "es-modules",
  setup(b) {
    b.onResolve({ filter: /^fp-ts\/lib\// }, (args) => ({
      path: join(root, "node_modules", "fp-ts", "es6", args.path.slice("fp-ts/lib/".length)),
    }));
    b.onResolve({ filter: /^io-ts$/ }, () => ({
      path: join(root, "node_modules", "io-ts", "es6", "index.js"),
    }));
  },
};

async function buildTs() {
  const { build } = await import("esbuild");
  const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
  rmSync(join(dist, "chunks"), { recursive: true, force: true });
  await build({
    // layer-worker runs in worker threads during a pull (src/app/run-layer-worker.ts).
    entryPoints: {
      nook: join(root, "src", "cli", "bin.ts"),
      "layer-worker": join(root, "src", "app", "layer-worker.ts"),
    },
    outdir: dist,
    outExtension: { ".js": ".mjs" },
    chunkNames: "chunks/[name]-[hash]",
    bundle: true,
    // ESM for code splitting: each command's use case (and fp-ts, io-ts with
    // it) is a chunk loaded by the dynamic import in its command.
    splitting: true,
    platform: "node",
    target: "node20",
    format: "esm",
    // koffi loads a prebuilt .node file at run time; it stays in node_modules.
    external: ["koffi"],
    plugins: [esModules],
    // CommonJS dependencies bundled into ESM may call require() for built-ins.
    banner: {
      js: 'import { createRequire as __nookRequire } from "node:module"; const require = __nookRequire(import.meta.url);',
    },
    define: { NOOK_VERSION: JSON.stringify(pkg.version) },
    sourcemap: "linked",
    legalComments: "none",
    logLevel: "warning",
  });
  // The command users run: a dynamic import works whether Node takes this
  // extensionless file for CommonJS or for ESM.
  writeFileSync(join(dist, "nook"), '#!/usr/bin/env node\nimport("./nook.mjs");\n', { mode: 0o755 });
}

mkdirSync(dist, { recursive: true });
if (only !== "ts") buildNative();
if (only !== "native") await buildTs();
try {
  execFileSync(join(dist, "nook-helper"), ["--", "true"]);
} catch (e) {
  fail(`the freshly built dist/nook-helper does not run: ${e.message}`);
}
