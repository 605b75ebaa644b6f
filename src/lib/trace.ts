// NOOK_TRACE=1 prints when each step of a command happens, in wall-clock
// milliseconds, to stderr: for finding where start-up and pull time go
// across the processes a command runs (nook, the helper, nook again inside
// the user namespace, worker threads).
const on = process.env.NOOK_TRACE === "1";

export const trace = (label: string): void => {
  if (!on) return;
  const now = Date.now();
  process.stderr.write(`[trace ${String(now % 100_000).padStart(5, "0")} pid ${process.pid}] ${label}\n`);
};
