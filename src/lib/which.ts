import { accessSync, constants, statSync } from "node:fs";
import { delimiter, isAbsolute, join } from "node:path";

/**
 * The first executable regular file called `name` in PATH, like execvp looks:
 * without PATH (`env -i`, some cron jobs) in glibc's default, /bin:/usr/bin.
 */
export const which = (name: string, path = process.env.PATH ?? "/bin:/usr/bin"): string | undefined => {
  if (isAbsolute(name)) return isExecutableFile(name) ? name : undefined;
  for (const dir of path.split(delimiter)) {
    if (dir === "") continue;
    const candidate = join(dir, name);
    if (isExecutableFile(candidate)) return candidate;
  }
  return undefined;
};

const isExecutableFile = (p: string): boolean => {
  try {
    if (!statSync(p).isFile()) return false;
    accessSync(p, constants.X_OK);
    return true;
  } catch {
    return false;
  }
};
