// The daemon's SQLite checkpoints (src/serve/processor.ts): the processing thread moves the
// write-ahead log into the database every 2,000 pages, the staging connection (whose commits a 250
// waits for) only past 32,000; the one-mail processes keep their 200 pages. SQLite only (the
// setting does not exist on PostgreSQL), so this file is not in the postgres project.
import { statSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { makeDeps } from "../src/cli/context.js";
import { createProcessor, PROCESSING_CHECKPOINT_PAGES, STAGER_CHECKPOINT_PAGES } from "../src/serve/processor.js";
import type { SqliteStore } from "../src/store/sqlite/engine.js";
import { count, db, mail } from "./helpers/cli.js";
import { deliver, LmtpClient, startDaemon, until } from "./helpers/lmtp.js";
import { configured } from "./helpers/setup.js";

const pragma = (store: SqliteStore) => store.client.pragma("wal_autocheckpoint", { simple: true });

describe("SQLite checkpoints in the daemon", () => {
  it("a store opened as the one-mail path opens it keeps a short log; checkpointEvery changes it and refuses nonsense", async () => {
    const sb = configured();
    const deps = await makeDeps({}, sb.env, undefined, { create: true });
    const store = deps.store as SqliteStore;
    try {
      expect(pragma(store)).toBe(200);
      store.checkpointEvery(1234);
      expect(pragma(store)).toBe(1234);
      expect(() => store.checkpointEvery(-1)).toThrow(RangeError);
      expect(() => store.checkpointEvery(1.5)).toThrow(RangeError);
    } finally {
      await store.close();
    }
    expect(STAGER_CHECKPOINT_PAGES).toBeGreaterThan(PROCESSING_CHECKPOINT_PAGES);
  });

  it("processing on the main thread (--inline, or a failed processing thread): that connection checkpoints as the processing thread does", async () => {
    const sb = configured();
    const deps = await makeDeps({}, sb.env, undefined, { create: true });
    const store = deps.store as SqliteStore;
    try {
      const p = createProcessor(deps, { capacity: 10 }, () => {}, true);
      expect(pragma(store)).toBe(PROCESSING_CHECKPOINT_PAGES);
      await p.stop(100);
    } finally {
      await store.close();
    }
  });

  it("the built daemon lets the log grow past 200 pages while it stages and processes, and every mail completes", async () => {
    const sb = configured();
    const d = await startDaemon(sb);
    const c = await LmtpClient.connect(d.socket);
    try {
      await c.read(1);
      await c.command("LHLO mta.example.test");
      const n = 150;
      for (let i = 0; i < n; i++) {
        const t = await deliver(c, "ada@customer.test", ["service@example.test"], mail({ From: `C${i} <c${i}@customer.test>`, To: "service@example.test", Subject: `Question ${i}` }, `${"Some text of the question. ".repeat(150)}\n`));
        expect(t.results[0].code).toBe(250);
      }
      const complete = () => {
        const h = db(sb);
        try {
          return count(h, "staged_mails", "status = 'complete'") === n;
        } finally {
          h.close();
        }
      };
      await until(complete, 30_000, "every mail complete");
      // The log file keeps the largest size it reached. With a checkpoint every 200 pages (the
      // one-mail path's setting) that stays near 200 pages of 4 KiB plus one transaction (under 1 MB
      // here); 150 mails write about 4,000 pages, which the processing thread lets reach 2,000.
      expect(statSync(`${sb.db}-wal`).size).toBeGreaterThan(1000 * 4096);
    } finally {
      c.destroy();
      await d.stop("SIGKILL");
    }
  });
});
