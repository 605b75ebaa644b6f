// WWW-Authenticate challenges (RFC 7235 section 4.1) as registries send them:
//   Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/alpine:pull"
//   Basic realm="Registry Realm"
// Only the first challenge is used: registries send one.

export interface Challenge {
  readonly scheme: "bearer" | "basic" | "other";
  readonly params: Readonly<Record<string, string>>;
}

const PARAM = /\s*([A-Za-z0-9_.-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))\s*,?/y;

export const parseChallenge = (header: string | undefined): Challenge | undefined => {
  if (!header) return undefined;
  const m = /^\s*([A-Za-z]+)\s*(.*)$/s.exec(header);
  if (!m) return undefined;
  const scheme = (m[1] ?? "").toLowerCase();
  const rest = m[2] ?? "";
  const params: Record<string, string> = {};
  PARAM.lastIndex = 0;
  let p: RegExpExecArray | null;
  while (PARAM.lastIndex < rest.length && (p = PARAM.exec(rest)) !== null) {
    const key = (p[1] ?? "").toLowerCase();
    params[key] = p[2] !== undefined ? p[2].replace(/\\(.)/g, "$1") : (p[3] ?? "");
  }
  return { scheme: scheme === "bearer" || scheme === "basic" ? scheme : "other", params };
};
