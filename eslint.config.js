import js from "@eslint/js";
import tseslint from "typescript-eslint";

// Dependencies point down only (DESIGN.md section 2). Each folder of src/ lists
// the folders it may import from; an import of any other is an error. Paths
// are matched on the import string, and every import inside src/ is relative.
const layers = {
  cli: ["app", "image", "registry", "store", "rootfs", "runtime", "network", "cgroups", "sys", "lib"],
  app: ["image", "registry", "store", "rootfs", "runtime", "network", "cgroups", "sys", "lib"],
  runtime: ["image", "store", "rootfs", "network", "cgroups", "sys", "lib"],
  rootfs: ["image", "store", "sys", "lib"],
  network: ["sys", "lib"],
  cgroups: ["sys", "lib"],
  registry: ["image", "sys", "lib"],
  store: ["image", "sys", "lib"],
  image: ["lib"],
  sys: ["lib"],
  lib: [],
};

const layerRules = Object.entries(layers).map(([layer, allowed]) => ({
  files: [`src/${layer}/**/*.ts`],
  rules: {
    "no-restricted-imports": [
      "error",
      {
        patterns: Object.keys(layers)
          .filter((other) => other !== layer && !allowed.includes(other))
          .map((other) => ({
            group: [`**/${other}/*`, `**/${other}/**`],
            message: `src/${layer}/ may not import from src/${other}/ (dependencies point down: DESIGN.md section 2)`,
          })),
      },
    ],
  },
}));

export default tseslint.config(
  { ignores: ["dist/", "node_modules/", ".cache/", "coverage/"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: {
        process: "readonly",
        console: "readonly",
        Buffer: "readonly",
        __dirname: "readonly",
        require: "readonly",
        module: "readonly",
        setTimeout: "readonly",
        clearTimeout: "readonly",
        URL: "readonly",
      },
    },
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
    },
  },
  ...layerRules,
);
