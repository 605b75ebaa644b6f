// A reverse proxy in front of a real registry that passes everything through
// until a test arms a fault, so nook's pull can be shown to fail cleanly (or
// retry and resume) when a blob arrives corrupted, cut short, or the registry
// dies half-way. Faults hit blob GETs (/v2/<name>/blobs/<digest>) only: the
// manifest and the auth dance stay intact, so the client reaches the download.
import {
  Agent,
  createServer,
  request as httpRequest,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type OutgoingHttpHeaders,
  type ServerResponse,
} from "node:http";
import type { AddressInfo, Socket } from "node:net";

export type FaultKind = "corrupt-blob" | "truncate-blob" | "die-mid-blob" | "status";

export interface Fault {
  /**
   * corrupt-blob: the whole body with one byte flipped (length kept);
   * truncate-blob: the upstream headers (Content-Length of the whole answer), half the body, then the socket destroyed;
   * die-mid-blob: as truncate-blob, then the proxy stops listening (connection refused) until revive();
   * status: answers `status` with no body.
   */
  readonly kind: FaultKind;
  /** Only GETs of this blob ("sha256:..."); default: any blob GET. */
  readonly digest?: string;
  /** How many matching requests get the fault; default 1. */
  readonly times?: number;
  /** For "status": e.g. 500, 503. */
  readonly status?: number;
}

export interface ProxiedRequest {
  readonly method: string;
  /** Path and query, as the client sent them. */
  readonly path: string;
  /** The Range header, when the client sent one. */
  readonly range?: string;
  /** The status the client was answered with (the upstream's, or the armed one); 502 when upstream failed. */
  readonly status: number;
  /** The fault this request met, if any. */
  readonly fault?: FaultKind;
}

export interface FaultProxy {
  /** "127.0.0.1:PORT", to put in an image reference instead of the registry's host. */
  readonly host: string;
  /** Every request answered so far, oldest first; clear it with `requests.length = 0`. */
  readonly requests: ProxiedRequest[];
  /** Queues a fault; faults fire in the order armed, each `times` times. */
  readonly arm: (fault: Fault) => void;
  /** Drops every armed fault that has not fired yet. */
  readonly disarm: () => void;
  /** Listens again on the same port after die-mid-blob. */
  readonly revive: () => Promise<void>;
  readonly stop: () => Promise<void>;
}

const BLOB_PATH = /^\/v2\/.+\/blobs\/(sha256:[0-9a-f]{64})$/;

// Hop-by-hop headers (RFC 9110 section 7.6.1) belong to one connection and are not forwarded.
const HOP_BY_HOP = [
  "connection",
  "keep-alive",
  "proxy-connection",
  "transfer-encoding",
  "upgrade",
  "te",
  "trailer",
];

const endToEnd = (headers: IncomingHttpHeaders): OutgoingHttpHeaders => {
  const out: OutgoingHttpHeaders = { ...headers };
  for (const h of HOP_BY_HOP) delete out[h];
  return out;
};

interface Armed {
  readonly fault: Fault;
  left: number;
}

/**
 * Starts the proxy on 127.0.0.1 and a free port in front of `upstream`
 * ("127.0.0.1:PORT" or "http://127.0.0.1:PORT").
 */
export const startFaultProxy = async (upstream: string): Promise<FaultProxy> => {
  const target = new URL(upstream.includes("://") ? upstream : `http://${upstream}`);
  const agent = new Agent({ keepAlive: true });
  const requests: ProxiedRequest[] = [];
  const armed: Armed[] = [];
  const sockets = new Set<Socket>();
  let host = "";

  /** Which blob a GET asks for, if it asks for one. */
  const blobOf = (req: IncomingMessage): string | undefined =>
    req.method === "GET" ? BLOB_PATH.exec(new URL(req.url ?? "/", "http://x").pathname)?.[1] : undefined;

  /**
   * The first armed fault for this blob, its count taken when it is of a kind
   * in `kinds`. A body fault waits for a 2xx answer: a 401 on the way to a
   * token must not use it up.
   */
  const take = (digest: string | undefined, kinds: readonly FaultKind[]): Fault | undefined => {
    if (digest === undefined) return undefined;
    const i = armed.findIndex((a) => a.fault.digest === undefined || a.fault.digest === digest);
    const a = armed[i];
    if (!a || !kinds.includes(a.fault.kind)) return undefined;
    if (--a.left <= 0) armed.splice(i, 1);
    return a.fault;
  };

  /** Redirects and upload locations that name the upstream are rewritten to name the proxy. */
  const rewriteLocation = (headers: OutgoingHttpHeaders): OutgoingHttpHeaders => {
    const loc = headers.location;
    if (typeof loc === "string" && loc.startsWith(target.origin))
      headers.location = `http://${host}${loc.slice(target.origin.length)}`;
    return headers;
  };

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const digest = blobOf(req);
    const record = (status: number, fault?: Fault): void => {
      requests.push({
        method: req.method ?? "",
        path: req.url ?? "",
        ...(req.headers.range ? { range: req.headers.range } : {}),
        status,
        ...(fault ? { fault: fault.kind } : {}),
      });
    };
    const refusal = take(digest, ["status"]);
    if (refusal) {
      const status = refusal.status ?? 503;
      record(status, refusal);
      res.writeHead(status, { "Content-Length": "0" }).end();
      req.resume();
      return;
    }
    // The Host header goes through unchanged: the registry builds its
    // Location URLs from it, so they already name the proxy.
    const up = httpRequest(
      {
        protocol: target.protocol,
        hostname: target.hostname,
        port: target.port,
        method: req.method,
        path: req.url,
        headers: endToEnd(req.headers),
        agent,
      },
      (upRes) => {
        const status = upRes.statusCode ?? 502;
        const fault =
          status < 300 ? take(digest, ["corrupt-blob", "truncate-blob", "die-mid-blob"]) : undefined;
        record(status, fault);
        res.writeHead(status, upRes.statusMessage, rewriteLocation(endToEnd(upRes.headers)));
        if (!fault) upRes.pipe(res);
        else if (fault.kind === "corrupt-blob") corrupt(upRes, res);
        else cut(upRes, res, fault.kind === "die-mid-blob" ? die : undefined);
      },
    );
    up.on("error", (e) => {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      record(502);
      res
        .writeHead(502, { "Content-Type": "text/plain" })
        .end(`fault proxy: upstream failed: ${e.message}\n`);
    });
    // A client that goes away takes its upstream request with it.
    res.on("close", () => {
      if (!res.writableFinished) up.destroy();
    });
    req.pipe(up);
  };

  const server = createServer(handle);
  server.on("connection", (s) => {
    sockets.add(s);
    s.once("close", () => sockets.delete(s));
  });

  const listen = (port: number): Promise<number> =>
    new Promise((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, "127.0.0.1", () => {
        server.off("error", reject);
        resolve((server.address() as AddressInfo).port);
      });
    });

  const close = (): Promise<void> =>
    new Promise((resolve) => {
      if (!server.listening) return resolve();
      server.close(() => resolve());
      for (const s of sockets) s.destroy();
    });

  // A dead registry: no more listening socket and every open connection gone.
  const die = (): void => void close();

  const port = await listen(0);
  host = `127.0.0.1:${port}`;
  return {
    host,
    requests,
    arm: (fault) => armed.push({ fault, left: fault.times ?? 1 }),
    disarm: () => void armed.splice(0),
    revive: async () => {
      if (!server.listening) await listen(port);
    },
    stop: async () => {
      await close();
      agent.destroy();
    },
  };
};

/** Passes the body through with the byte in its middle inverted: same length, wrong digest. */
const corrupt = (from: IncomingMessage, to: ServerResponse): void => {
  const length = Number(from.headers["content-length"] ?? 0);
  const target = Math.floor(length / 2);
  let offset = 0;
  from.on("data", (chunk: Buffer) => {
    if (target >= offset && target < offset + chunk.length) {
      const copy = Buffer.from(chunk);
      copy[target - offset] = (copy[target - offset] ?? 0) ^ 0xff;
      chunk = copy;
    }
    offset += chunk.length;
    if (!to.write(chunk)) {
      from.pause();
      to.once("drain", () => from.resume());
    }
  });
  from.on("end", () => to.end());
  from.on("error", () => to.destroy());
};

/**
 * Sends the first half of the body, then destroys the client's socket once
 * those bytes are out (the write callback), so the client sees a short body
 * under a full Content-Length; `after` runs then (die-mid-blob).
 */
const cut = (from: IncomingMessage, to: ServerResponse, after?: () => void): void => {
  const length = Number(from.headers["content-length"] ?? 0);
  const half = Math.floor(length / 2);
  let sent = 0;
  let done = false;
  const finish = (): void => {
    if (done) return;
    done = true;
    from.destroy();
    to.socket?.destroy();
    after?.();
  };
  if (half === 0) {
    to.write(Buffer.alloc(0), finish);
    return;
  }
  from.on("data", (chunk: Buffer) => {
    if (done) return;
    const part = chunk.subarray(0, Math.max(0, half - sent));
    sent += part.length;
    if (sent < half) {
      if (!to.write(part)) {
        from.pause();
        to.once("drain", () => from.resume());
      }
      return;
    }
    from.pause();
    to.write(part, finish);
  });
  from.on("end", finish);
  from.on("error", finish);
};
