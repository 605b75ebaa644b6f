// --sysctl NAME=VALUE (pure): only the sysctls a container's own namespaces
// hold, as Docker allows them (its opts.ValidateSysctl): the IPC namespace's
// kernel.msg*, kernel.sem, kernel.shm* and fs.mqueue.*, and the network
// namespace's net.*, which with --network host would be the host's.

export interface Sysctl {
  readonly name: string;
  readonly value: string;
}

const IPC = (name: string): boolean =>
  name === "kernel.sem" ||
  name.startsWith("kernel.shm") ||
  name.startsWith("kernel.msg") ||
  name.startsWith("fs.mqueue.");

export const parseSysctl = (given: string, network: string): Sysctl | string => {
  const eq = given.indexOf("=");
  if (eq < 0) return `--sysctl ${given}: expected NAME=VALUE`;
  const name = given.slice(0, eq).trim().replace(/\//g, ".");
  const value = given.slice(eq + 1);
  if (!/^[a-z0-9_]+(\.[A-Za-z0-9_-]+)+$/.test(name)) return `--sysctl ${given}: not a sysctl name`;
  if (/[\n\0]/.test(value)) return `--sysctl ${given}: the value is one line`;
  if (name.startsWith("net.")) {
    if (network === "host")
      return `--sysctl ${name}: the container shares the host's network namespace (--network host), so this would be the host's`;
    return { name, value };
  }
  if (IPC(name)) return { name, value };
  return `--sysctl ${name}: not a namespaced sysctl a container may set (net.*, kernel.msg*, kernel.sem, kernel.shm*, fs.mqueue.*)`;
};
