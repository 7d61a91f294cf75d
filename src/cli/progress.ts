// A one-line progress bar for people at a terminal (stderr); nothing at all for pipes and files.
export interface Progress {
  tick(bytes: number, messages: number): void;
  done(): void;
}

const WIDTH = 24;

export function progressBar(stream: NodeJS.WriteStream, totalBytes: number, label: string, now: () => number = Date.now): Progress {
  if (!stream.isTTY) return { tick: () => {}, done: () => {} };
  const started = now();
  let shown = 0;
  let bytes = 0;
  let messages = 0;
  const draw = () => {
    const frac = totalBytes > 0 ? Math.min(1, bytes / totalBytes) : 1;
    const filled = Math.round(frac * WIDTH);
    const secs = (now() - started) / 1000;
    const rate = secs > 0 ? Math.round(messages / secs) : 0;
    stream.write(`\r${label} [${"#".repeat(filled)}${"-".repeat(WIDTH - filled)}] ${String(Math.floor(frac * 100)).padStart(3)}%  ${messages} messages  ${rate}/s\u001b[K`);
  };
  return {
    tick(b, m) {
      bytes += b;
      messages += m;
      const t = now();
      if (t - shown >= 100) {
        shown = t;
        draw();
      }
    },
    done() {
      stream.write("\r\u001b[K");
    },
  };
}
