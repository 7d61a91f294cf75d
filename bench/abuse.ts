// Issue 10, the scripted abuse run: one attacker, one hour of attempts against the confirmation
// path, generated rather than waited for (the clock is injected and advances one step per mail).
// Reports how many confirmations the attacker could cause to one mailbox, to one domain and in all.
// `node dist/bench/run.js abuse`; test/security/abuse-run.test.ts asserts the limits hold.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseConfig } from "../src/config.js";
import { openSqliteStore } from "../src/store/sqlite/open.js";
import { resolvePaths, type Deps, type OutgoingMail } from "../src/pipeline/deps.js";
import { ingest } from "../src/pipeline/ingest.js";
import { normaliseAddress } from "../src/rules/mailbox.js";

export interface AbuseReport {
  attempts: number;
  seconds: number;
  /** Confirmations that went out, in all and to the one mailbox / the one domain under attack. */
  sent: number;
  toVictimMailbox: number;
  toVictimDomain: number;
  /** Confirmations per attack, and how many envelope recipients the largest one had. */
  byAttack: Record<string, number>;
  maxRecipientsInOneMail: number;
  limits: { perAddressPerDay: number; perDomainPerHour: number; perHour: number };
}

const VICTIM = "victim@target.example";

// The attacks of issue 10, taken in turn: one mail per step.
const attacks: { name: string; mail: (i: number) => Record<string, string> }[] = [
  { name: "plus-tag", mail: (i) => ({ From: `victim+${i}@target.example` }) },
  { name: "case", mail: (i) => ({ From: i % 2 ? "Victim@Target.Example" : "VICTIM@target.EXAMPLE" }) },
  { name: "trailing-dot", mail: () => ({ From: "victim@target.example." }) },
  { name: "other-mailbox-same-domain", mail: (i) => ({ From: `user${i}@target.example` }) },
  { name: "quoted-list", mail: (i) => ({ From: `"${VICTIM},user${i}@target.example,x"@evil.example` }) },
  { name: "several-from", mail: (i) => ({ From: `${VICTIM}, user${i}@target.example` }) },
  { name: "forged-dmarc-fail", mail: () => ({ From: VICTIM, "Authentication-Results": "mx.example.test; spf=fail; dmarc=fail" }) },
  { name: "spam-flagged", mail: () => ({ From: VICTIM, "X-Spam-Flag": "YES" }) },
  { name: "other-domains", mail: (i) => ({ From: `someone${i}@domain${i}.example` }) },
];

export async function abuseRun(opts: { stepSeconds?: number; hours?: number } = {}): Promise<AbuseReport> {
  const step = opts.stepSeconds ?? 1;
  const dir = mkdtempSync(join(tmpdir(), "ingest-mail-abuse-"));
  const config = parseConfig({
    supportAddresses: ["service@example.test"],
    routes: [{ address: "service@example.test", kind: "ticket", sendResponse: true }],
    outbound: { transport: "file", from: "service@example.test", host: "helpdesk.example.test" },
    trustedAuthservId: "mx.example.test",
  });
  const paths = resolvePaths(join(dir, "ingest.db"), config);
  const db = openSqliteStore(paths.db, { busyTimeoutMs: 10_000 });
  let clock = Date.UTC(2026, 0, 5, 9, 0, 0);
  let guid = 0;
  const sent: OutgoingMail[] = [];
  const sentBy: string[] = [];
  let current = "";
  const deps: Deps = {
    db,
    store: db,
    config,
    paths,
    now: () => new Date(clock),
    newGuid: () => `00000000-0000-4000-8000-${String(++guid).padStart(12, "0")}`,
    log: () => {},
    mailer: async () => ({
      send: async (m) => {
        sent.push(m);
        sentBy.push(current);
      },
    }),
    hostname: "helpdesk.example.test",
  };
  const started = performance.now();
  const attempts = Math.floor(((opts.hours ?? 1) * 3600) / step);
  try {
    for (let i = 0; i < attempts; i++) {
      const attack = attacks[i % attacks.length];
      current = attack.name;
      const headers: Record<string, string> = { To: "service@example.test", Subject: `Order ${i}`, "Message-ID": `<abuse-${i}@evil.example>`, Date: new Date(clock).toUTCString(), ...attack.mail(i) };
      const text = `${Object.entries(headers)
        .map(([k, v]) => `${k}: ${v}`)
        .join("\n")}\n\nPlease confirm.\n`;
      await ingest(deps, (async function* () {
        yield Buffer.from(text);
      })(), { recipient: "service@example.test", sender: null }, { source: "stdin", durable: false });
      clock += step * 1000;
    }
  } finally {
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  }
  const recipients = sent.map((m) => m.to.split(",").length);
  const byAttack: Record<string, number> = Object.fromEntries(attacks.map((a) => [a.name, 0]));
  for (const name of sentBy) byAttack[name]++;
  return {
    attempts,
    seconds: (performance.now() - started) / 1000,
    sent: sent.length,
    toVictimMailbox: sent.filter((m) => normaliseAddress(m.to) === VICTIM).length,
    toVictimDomain: sent.filter((m) => normaliseAddress(m.to).endsWith("@target.example")).length,
    byAttack,
    maxRecipientsInOneMail: recipients.length ? Math.max(...recipients) : 0,
    limits: { perAddressPerDay: config.limits.confirmationsPerAddressPerDay, perDomainPerHour: config.limits.confirmationsPerDomainPerHour, perHour: config.limits.confirmationsPerHour },
  };
}

export async function run(): Promise<string> {
  const r = await abuseRun();
  return [
    `abuse run: ${r.attempts} attack mails in one simulated hour (${r.seconds.toFixed(1)} s to run)`,
    `  confirmations to one mailbox (${VICTIM} in any spelling): ${r.toVictimMailbox} (limit ${r.limits.perAddressPerDay} a day)`,
    `  confirmations to one domain (target.example): ${r.toVictimDomain} (limit ${r.limits.perDomainPerHour} an hour)`,
    `  confirmations in all: ${r.sent} (limit ${r.limits.perHour} an hour); largest recipient list: ${r.maxRecipientsInOneMail}`,
    `  by attack: ${Object.entries(r.byAttack)
      .map(([k, v]) => `${k} ${v}`)
      .join(", ")}`,
  ].join("\n");
}
