// The load use case as the command calls it: an -i path (or stdin) in,
// stored images out. Runs as root of the user namespace (see in-userns.ts).
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import * as E from "fp-ts/lib/Either.js";
import type { NookError } from "../lib/errors.js";
import { probeWhiteouts } from "../rootfs/whiteout-probe.js";
import { openStore } from "./locations.js";
import { fullIdMap } from "./in-userns.js";
import { loadImages, type LoadedImage, type LoadEvents, type LoadSource } from "./load.js";

/** -i FILE is an archive, -i DIR an OCI layout directory; without -i, stdin. */
const openSource = async (
  input: string | undefined,
  stdin: NodeJS.ReadableStream,
): Promise<E.Either<NookError, LoadSource>> => {
  if (input === undefined) return E.right({ kind: "stream", input: stdin, name: "stdin" });
  const st = await stat(input).catch((e: NodeJS.ErrnoException) => e);
  if (st instanceof Error)
    return E.left({
      _tag: "LoadIoError",
      message: `open ${input}: ${(st.message.split(", ")[0] ?? st.message).replace(/^E[A-Z]+: /, "")}`,
    });
  if (st.isDirectory()) return E.right({ kind: "directory", path: input });
  return E.right({
    kind: "stream",
    input: createReadStream(input, { highWaterMark: 1 << 20 }),
    name: `archive ${input}`,
  });
};

export const loadImage = async (
  input: string | undefined,
  stdin: NodeJS.ReadableStream,
  events: LoadEvents | undefined,
): Promise<E.Either<NookError, LoadedImage[]>> => {
  const source = await openSource(input, stdin);
  if (E.isLeft(source)) return source;
  const store = openStore();
  store.init();
  const whiteouts = await probeWhiteouts(store.root);
  return loadImages(store, source.right, {
    unpack: { whiteouts, preserveOwner: fullIdMap() },
    ...(events ? { events } : {}),
  });
};
