// Names for containers started without --name, in Docker's adjective_surname
// style (its namesgenerator), from short lists of our own.
import type { Containers } from "../store/containers.js";

const ADJECTIVES = [
  "brave",
  "calm",
  "clever",
  "eager",
  "gentle",
  "happy",
  "jolly",
  "keen",
  "kind",
  "lucid",
  "merry",
  "nimble",
  "patient",
  "quiet",
  "quirky",
  "sharp",
  "steady",
  "sunny",
  "swift",
  "tender",
  "vivid",
  "wise",
  "witty",
  "zealous",
  "bold",
  "busy",
  "cool",
  "daring",
  "fond",
  "proud",
];

const SURNAMES = [
  "agnesi",
  "babbage",
  "bohr",
  "curie",
  "darwin",
  "dijkstra",
  "euler",
  "faraday",
  "feynman",
  "gauss",
  "hopper",
  "hypatia",
  "kepler",
  "knuth",
  "lamarr",
  "lovelace",
  "meitner",
  "noether",
  "pascal",
  "ritchie",
  "shannon",
  "thompson",
  "turing",
  "wozniak",
  "yalow",
  "franklin",
  "galois",
  "hamilton",
  "lamport",
  "torvalds",
];

const pick = <A>(xs: readonly A[]): A => xs[Math.floor(Math.random() * xs.length)] as A;

export const uniqueName = (containers: Containers): string => {
  const taken = new Set(containers.list().map((c) => c.name));
  for (let i = 0; ; i++) {
    const name = `${pick(ADJECTIVES)}_${pick(SURNAMES)}${i >= 10 ? `${i}` : ""}`;
    if (!taken.has(name)) return name;
  }
};
