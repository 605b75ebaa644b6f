// Prints vitest's JSON report as the one line CI reads:
//   N passed, N failed, N skipped
// over every test of every project. A test file that failed to load (it has
// no test results of its own) counts as one failure, so a broken import can
// never pass as "0 failed". Exit status 1 when anything failed or the report
// is missing.
import { readFileSync } from "node:fs";

const file = process.argv[2];
let report;
try {
  report = JSON.parse(readFileSync(file, "utf8"));
} catch (e) {
  process.stderr.write(`test-summary: no vitest report at ${file} (${e.message})\n`);
  console.log("0 passed, 0 failed");
  process.exit(1);
}

let passed = 0;
let failed = 0;
let skipped = 0;
for (const suite of report.testResults ?? []) {
  const tests = suite.assertionResults ?? [];
  if (tests.length === 0 && suite.status === "failed") failed += 1;
  for (const t of tests) {
    if (t.status === "passed") passed += 1;
    else if (t.status === "failed") failed += 1;
    else skipped += 1; // pending, skipped, todo, disabled
  }
}
console.log(`${passed} passed, ${failed} failed${skipped > 0 ? `, ${skipped} skipped` : ""}`);
process.exit(failed > 0 || report.success === false ? 1 : 0);
