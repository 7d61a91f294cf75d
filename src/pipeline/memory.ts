// Issue 9.3: a 90 MB message must ingest within 150 MB of memory. Streaming keeps only small chunks
// alive, but each chunk's bytes live outside V8's heap and V8 collects them only after some 64 MB of
// such garbage has piled up, once while reading and again while parsing. For large mail a full
// collection every STREAM_GC_BYTES keeps the peak near the live data; small mail never gets there.
import { createRequire } from "node:module";

export const STREAM_GC_BYTES = 24 * 1024 * 1024;

let gc: (() => void) | null | undefined;

function collect(): void {
  if (gc === undefined) {
    try {
      // Loaded here, not at the top: most mail never gets this far (cold start, issue 5).
      const require = createRequire(import.meta.url);
      (require("node:v8") as typeof import("node:v8")).setFlagsFromString("--expose-gc");
      gc = (require("node:vm") as typeof import("node:vm")).runInNewContext("gc") as () => void;
    } catch {
      gc = null;
    }
  }
  gc?.();
}

/** Counts bytes streamed through and collects garbage after every STREAM_GC_BYTES of them. */
export class GarbageEvery {
  private seen = 0;

  constructor(private readonly every = STREAM_GC_BYTES) {}

  add(bytes: number): void {
    this.seen += bytes;
    if (this.seen < this.every) return;
    this.seen = 0;
    collect();
  }
}
