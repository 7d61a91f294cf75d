// The machine project's files (real Postfix, Dovecot, apt-get, systemd units) share one machine:
// each rewrites /etc/postfix, restarts Postfix and empties its queue (`postsuper -d ALL`). Two of
// them at once lose each other's mail: the LMTP kill -9 test lost five queued mails to the pipe
// test's set-up and timed out, in two runs of eleven. vitest 3.2 does not apply a project's own
// maxWorkers to its fork pool (vitest.config.ts says how the project is kept to one fork); this
// setup file makes a second file that starts while another runs fail at once, naming both,
// instead of failing later and elsewhere.
import { closeSync, openSync, readFileSync, rmSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { afterAll, beforeAll, expect } from "vitest";

const marker = join(tmpdir(), "ingest-mail-machine-test.running");

/** The file holding the marker now, or null when none does (a marker whose process has gone is stale). */
function holder(): string | null {
  const text = readIf(marker);
  if (text === null) return null;
  const [pid, ...file] = text.split(" ");
  try {
    process.kill(Number(pid), 0);
  } catch {
    return null;
  }
  // A pid the system has given to another program since: not a test run (Linux shows the command).
  const command = readIf(`/proc/${pid}/cmdline`);
  if (command !== null && !command.includes("vitest")) return null;
  return file.join(" ");
}

function readIf(path: string): string | null {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return null;
  }
}

let mine = false;

beforeAll(() => {
  const me = relative(process.cwd(), expect.getState().testPath ?? "?");
  for (;;) {
    try {
      const fd = openSync(marker, "wx"); // O_EXCL: one holder at a time
      writeSync(fd, `${process.pid} ${me}`);
      closeSync(fd);
      mine = true;
      return;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
    }
    const other = holder();
    if (other !== null) throw new Error(`${me} started while ${other} is running: the machine project must run one file at a time (vitest.config.ts, poolOptions.forks.singleFork)`);
    rmSync(marker, { force: true }); // stale: its process has gone, or its pid is another program's
  }
});

afterAll(() => {
  if (mine) rmSync(marker, { force: true });
  mine = false;
});
