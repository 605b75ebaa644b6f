// Builds nook: the C helper (native/ -> dist/nook-helper) with the system's C
// compiler, and the CLI bundle (src/ -> dist/nook.cjs, run by the launcher dist/nook) with esbuild. Run by
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

// The launcher, dist/nook: compiles the bundle through vm.Script with a V8
// code cache kept in $XDG_CACHE_HOME/nook (one per node version, bundle and
// command, written at the first exit that lacks one): the cache holds the
// bytecode of what that command ran, and start-up skips most of the parsing
// and compiling, which measured ~60 ms of nook run's start (scripts/bench/).
// A cache V8 rejects (another node, another bundle) is only rewritten.
const LAUNCHER = `#!/usr/bin/env node
"use strict";
const fs = require("fs"), path = require("path"), vm = require("vm"), Module = require("module");
const file = path.join(__dirname, "nook.cjs");
const source = fs.readFileSync(file, "utf8");
const word = /^[a-z][a-z-]*$/.test(process.argv[2] || "") ? process.argv[2] : "other";
const stat = fs.statSync(file);
const dir = path.join(process.env.XDG_CACHE_HOME || path.join(require("os").homedir(), ".cache"), "nook");
const cacheFile = path.join(dir, \`v8-\${process.version}-\${stat.size}-\${Math.floor(stat.mtimeMs)}-\${word}.cache\`);
let cachedData;
try { cachedData = fs.readFileSync(cacheFile); } catch {}
const script = new vm.Script(Module.wrap(source), { filename: file, ...(cachedData ? { cachedData } : {}) });
if (!cachedData || script.cachedDataRejected)
  process.on("exit", () => {
    try {
      fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
      const tmp = \`\${cacheFile}.\${process.pid}\`;
      fs.writeFileSync(tmp, script.createCachedData());
      fs.renameSync(tmp, cacheFile);
      // Caches of other bundles or nodes for this command are dead weight.
      for (const f of fs.readdirSync(dir))
        if (f.startsWith("v8-") && f.endsWith(\`-\${word}.cache\`) && path.join(dir, f) !== cacheFile)
          fs.rmSync(path.join(dir, f), { force: true });
    } catch {}
  });
const mod = { exports: {}, filename: file, id: file, loaded: false };
script.runInThisContext()(mod.exports, Module.createRequire(file), mod, file, __dirname);
`;

async function buildTs() {
  const { build } = await import("esbuild");
  const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
  rmSync(join(dist, "chunks"), { recursive: true, force: true });
  for (const old of ["nook.mjs", "nook.mjs.map"]) rmSync(join(dist, old), { force: true });
  const common = {
    bundle: true,
    platform: "node",
    target: "node20",
    // koffi loads a prebuilt .node file at run time; it stays in node_modules.
    external: ["koffi"],
    plugins: [esModules],
    define: { NOOK_VERSION: JSON.stringify(pkg.version) },
    sourcemap: "linked",
    legalComments: "none",
    logLevel: "warning",
  };
  // The CLI: one CommonJS file, so that the launcher can compile it with a
  // code cache (vm.Script takes scripts, not modules). Dynamic imports of
  // nook's own modules become plain calls, of Node's built-ins require().
  await build({
    ...common,
    entryPoints: { nook: join(root, "src", "cli", "bin.ts") },
    outdir: dist,
    outExtension: { ".js": ".cjs" },
    format: "cjs",
    supported: { "dynamic-import": false },
    define: { ...common.define, "import.meta.url": "__nookUrl" },
    banner: { js: 'const __nookUrl = require("url").pathToFileURL(__filename).href;' },
  });
  // layer-worker runs in worker threads during a pull (src/app/run-layer-worker.ts).
  await build({
    ...common,
    entryPoints: { "layer-worker": join(root, "src", "app", "layer-worker.ts") },
    outdir: dist,
    outExtension: { ".js": ".mjs" },
    format: "esm",
    // CommonJS dependencies bundled into ESM may call require() for built-ins.
    banner: {
      js: 'import { createRequire as __nookRequire } from "node:module"; const require = __nookRequire(import.meta.url);',
    },
  });
  // dist/nook has no extension: this makes it CommonJS whatever the package's type.
  writeFileSync(join(dist, "package.json"), '{ "type": "commonjs" }\n');
  writeFileSync(join(dist, "nook"), LAUNCHER, { mode: 0o755 });
  // nook's OCI runtime under a program path of its own, for Slurm's oci.conf and engines' runtime paths.
  writeFileSync(
    join(dist, "nook-runtime"),
    '#!/usr/bin/env node\n"use strict";\n// nook oci ARGS...: the OCI runtime (src/app/oci/).\nprocess.argv.splice(2, 0, "oci");\nrequire("./nook");\n',
    { mode: 0o755 },
  );
}

mkdirSync(dist, { recursive: true });
if (only !== "ts") buildNative();
if (only !== "native") await buildTs();
try {
  execFileSync(join(dist, "nook-helper"), ["--", "true"]);
} catch (e) {
  fail(`the freshly built dist/nook-helper does not run: ${e.message}`);
}
