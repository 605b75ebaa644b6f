// Registries that want credentials, for the tests of nook's auth escalation:
// the same Debian docker-registry as registry.ts, configured with
//   "basic": htpasswd (a bcrypt file made by `htpasswd -B`), answering 401 with
//            `WWW-Authenticate: Basic`;
//   "token": token auth (answering 401 with `WWW-Authenticate: Bearer realm=...`)
//            and a small token server written here, the Docker Hub flow
//            (https://distribution.github.io/distribution/spec/auth/token/).
// Each is seeded by skopeo with the fixture images, pushed with credentials.
//
// docker-registry 2.8 takes a token when its iss and aud match the config, it
// is within exp/nbf (60 s leeway), and its JWS header carries an `x5c` chain
// whose first certificate verifies against `rootcertbundle` (a self-signed
// certificate is its own chain). The signature is JWS ES256: r||s, not DER.
// distribution's registry/auth/token/token.go is where these rules live.
import { execFile, execFileSync, spawn, type ChildProcess } from "node:child_process";
import { X509Certificate, createPrivateKey, randomBytes, sign, type KeyObject } from "node:crypto";
import { appendFileSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { promisify } from "node:util";
import { SEEDED, freePort, stopChild, waitReady, type Registry } from "./registry.js";

const run = promisify(execFile);

/** A Registry (host, stop) that wants credentials. */
export interface AuthRegistry extends Registry {
  /** Credentials that may pull every seeded repository (and, for "basic", push). */
  readonly user: string;
  readonly password: string;
  /** For "token": the token endpoint, as the registry's challenge names it. */
  readonly realm?: string;
  /** The registry's log, and for "token" the token server's decisions: print it when a test fails. */
  readonly log: () => string;
}

/** The repositories an auth registry holds: every fixture but `big` (benchmarks use the plain registry). */
export const AUTH_SEEDED: readonly string[] = Object.keys(SEEDED).filter((name) => name !== "big");

const SERVICE = "nook-test-registry";
const ISSUER = "nook-test-token-issuer";

const configYaml = (storage: string, port: number, auth: string): string => `version: 0.1
log:
  level: info
  accesslog:
    disabled: false
storage:
  filesystem:
    rootdirectory: ${storage}
  delete:
    enabled: true
http:
  addr: 127.0.0.1:${port}
auth:
${auth}`;

const htpasswdAuth = (file: string): string => `  htpasswd:
    realm: nook-test
    path: ${file}
`;

const tokenAuth = (realm: string, cert: string): string => `  token:
    realm: ${realm}
    service: ${SERVICE}
    issuer: ${ISSUER}
    rootcertbundle: ${cert}
`;

const base64url = (b: Buffer | string): string => Buffer.from(b).toString("base64url");

interface Grant {
  readonly type: string;
  readonly name: string;
  readonly actions: readonly string[];
}

/** "repository:busybox:pull,push" -> a grant request; the name may not hold a colon, so split at the ends. */
const parseScope = (scope: string): Grant | undefined => {
  const parts = scope.split(":");
  if (parts.length < 3) return undefined;
  const type = parts[0] ?? "";
  const actions = (parts[parts.length - 1] ?? "").split(",").filter((a) => a !== "");
  return { type, name: parts.slice(1, -1).join(":"), actions };
};

/** Who may do what: the test user pulls, the seeding user also pushes, anonymous gets nothing. */
type Users = ReadonlyMap<string, { readonly password: string; readonly actions: readonly string[] }>;

type Identity = { readonly user: string; readonly actions: readonly string[] } | "anonymous" | "denied";

const identify = (req: IncomingMessage, users: Users): Identity => {
  const header = req.headers.authorization;
  if (header === undefined) return "anonymous";
  const m = /^Basic\s+(\S+)$/i.exec(header);
  if (!m?.[1]) return "denied";
  const decoded = Buffer.from(m[1], "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  const user = decoded.slice(0, colon);
  const entry = colon < 0 ? undefined : users.get(user);
  return entry && entry.password === decoded.slice(colon + 1) ? { user, actions: entry.actions } : "denied";
};

interface Signer {
  readonly key: KeyObject;
  /** The certificate as DER in standard base64, as JWS `x5c` wants it (RFC 7515 section 4.1.6). */
  readonly x5c: string;
}

const issueToken = (signer: Signer, subject: string, access: readonly Grant[]): string => {
  const now = Math.floor(Date.now() / 1000);
  const header = { typ: "JWT", alg: "ES256", x5c: [signer.x5c] };
  const claims = {
    iss: ISSUER,
    sub: subject,
    aud: SERVICE,
    exp: now + 300,
    nbf: now - 10,
    iat: now,
    jti: randomBytes(12).toString("hex"),
    access,
  };
  const input = `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(claims))}`;
  // JWS ES256 is the raw r||s pair (RFC 7518 section 3.4); node's default is DER.
  const signature = sign("sha256", Buffer.from(input), { key: signer.key, dsaEncoding: "ieee-p1363" });
  return `${input}.${base64url(signature)}`;
};

const send = (
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void => {
  res.writeHead(status, { "Content-Type": "application/json", ...headers });
  res.end(JSON.stringify(body));
};

/**
 * GET /token?service=S&scope=repository:NAME:ACTIONS (scope may repeat): a
 * JWT granting what was asked and the user may do. Anonymous callers get a
 * token with no access, as Docker Hub does, so the registry answers 401
 * insufficient_scope; wrong credentials get 401 here.
 */
const tokenHandler =
  (signer: Signer, users: Users, logFile: string) =>
  (req: IncomingMessage, res: ServerResponse): void => {
    const url = new URL(req.url ?? "/", "http://token");
    const note = (what: string): void =>
      appendFileSync(logFile, `${new Date().toISOString()} ${req.method} ${req.url} -> ${what}\n`);
    if (req.method !== "GET" || url.pathname !== "/token") {
      note("404");
      return send(res, 404, { errors: [{ code: "NOT_FOUND" }] });
    }
    if (url.searchParams.get("service") !== SERVICE) {
      note("400 unknown service");
      return send(res, 400, { errors: [{ code: "UNSUPPORTED", message: `unknown service` }] });
    }
    const who = identify(req, users);
    if (who === "denied") {
      note("401 bad credentials");
      return send(
        res,
        401,
        { errors: [{ code: "UNAUTHORIZED", message: "bad credentials" }] },
        {
          "WWW-Authenticate": 'Basic realm="nook-test-token"',
        },
      );
    }
    const allowed = who === "anonymous" ? [] : who.actions;
    const access = url.searchParams
      .getAll("scope")
      .flatMap((s) => s.split(" "))
      .map(parseScope)
      .filter((g): g is Grant => g?.type === "repository")
      .map((g) => ({ ...g, actions: g.actions.filter((a) => allowed.includes(a)) }))
      .filter((g) => g.actions.length > 0);
    const subject = who === "anonymous" ? "" : who.user;
    note(`200 ${subject || "anonymous"} ${JSON.stringify(access)}`);
    const token = issueToken(signer, subject, access);
    send(res, 200, { token, access_token: token, expires_in: 300, issued_at: new Date().toISOString() });
  };

const listen = (server: Server): Promise<number> =>
  new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve((server.address() as AddressInfo).port));
  });

/** A P-256 key and a self-signed certificate for it, made by the openssl CLI. */
const makeSigner = (dir: string): { signer: Signer; certFile: string } => {
  const keyFile = join(dir, "token.key");
  const certFile = join(dir, "token.crt");
  execFileSync(
    "openssl",
    ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"].concat([
      "-keyout",
      keyFile,
      "-out",
      certFile,
      "-days",
      "2",
      "-subj",
      `/CN=${ISSUER}`,
    ]),
    { stdio: ["ignore", "ignore", "pipe"] },
  );
  const cert = new X509Certificate(readFileSync(certFile));
  return {
    signer: { key: createPrivateKey(readFileSync(keyFile)), x5c: cert.raw.toString("base64") },
    certFile,
  };
};

const password = (): string => randomBytes(12).toString("hex");

/** Pushes the fixture images (AUTH_SEEDED) with credentials, as a user's CI would. */
const seed = async (host: string, creds: string, fixtures: string): Promise<void> => {
  await Promise.all(
    AUTH_SEEDED.map((name) => {
      const how = SEEDED[name] ?? { tag: name };
      return run("skopeo", [
        "copy",
        "--quiet",
        "--dest-tls-verify=false",
        "--dest-creds",
        creds,
        ...(how.all ? ["--all"] : []),
        ...(how.format ? ["--format", how.format] : []),
        `oci:${join(fixtures, "oci")}:${how.tag}`,
        `docker://${host}/${name}:latest`,
      ]);
    }),
  );
};

/**
 * Starts docker-registry with basic or token auth on 127.0.0.1 and a free
 * port, seeded from `fixtures` (buildFixtures()); stop() ends it (and the
 * token server) and removes its temporary directory.
 */
export const startAuthRegistry = async (kind: "basic" | "token", fixtures: string): Promise<AuthRegistry> => {
  const dir = mkdtempSync(`/tmp/nook-registry-${kind}-`);
  const logFile = join(dir, "registry.log");
  const tokenLog = join(dir, "token.log");
  const user = "nook-test";
  const pass = password();
  let child: ChildProcess | undefined;
  let tokenServer: Server | undefined;
  const stop = async (): Promise<void> => {
    if (child) await stopChild(child);
    if (tokenServer?.listening) await new Promise<void>((r) => tokenServer?.close(() => r()));
    rmSync(dir, { recursive: true, force: true });
  };
  const log = (): string => {
    const read = (f: string): string => {
      try {
        return readFileSync(f, "utf8");
      } catch {
        return "";
      }
    };
    return read(logFile) + (kind === "token" ? `--- token server ---\n${read(tokenLog)}` : "");
  };

  try {
    const port = await freePort();
    const host = `127.0.0.1:${port}`;
    let auth: string;
    let seeder = `${user}:${pass}`;
    let realm: string | undefined;
    if (kind === "basic") {
      const file = join(dir, "htpasswd");
      execFileSync("htpasswd", ["-B", "-i", "-c", file, user], {
        input: pass,
        stdio: ["pipe", "ignore", "pipe"],
      });
      auth = htpasswdAuth(file);
    } else {
      const { signer, certFile } = makeSigner(dir);
      const seederPass = password();
      const users: Users = new Map([
        [user, { password: pass, actions: ["pull"] }],
        ["nook-seeder", { password: seederPass, actions: ["pull", "push"] }],
      ]);
      writeFileSync(tokenLog, "");
      tokenServer = createHttpServer(tokenHandler(signer, users, tokenLog));
      realm = `http://127.0.0.1:${await listen(tokenServer)}/token`;
      auth = tokenAuth(realm, certFile);
      seeder = `nook-seeder:${seederPass}`;
    }
    writeFileSync(join(dir, "config.yml"), configYaml(join(dir, "storage"), port, auth));
    const out = openSync(logFile, "a");
    child = spawn("docker-registry", ["serve", join(dir, "config.yml")], { stdio: ["ignore", out, out] });
    const started = child;
    await new Promise<void>((resolve, reject) => {
      started.once("spawn", resolve);
      started.once("error", (e) => reject(new Error(`cannot start docker-registry: ${e.message}`)));
    });
    await waitReady(started, host, logFile, (r) => r.status === 401 && r.headers.has("www-authenticate"));
    await seed(host, seeder, fixtures).catch((e: Error) => {
      throw new Error(`seeding the ${kind}-auth registry failed: ${e.message}\n${log()}`);
    });
    return { host, user, password: pass, ...(realm ? { realm } : {}), log, stop };
  } catch (e) {
    await stop();
    throw e;
  }
};
