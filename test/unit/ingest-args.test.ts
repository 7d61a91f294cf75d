// The MTA's plain ingest call is read without commander (cold start, issue 5). Whatever plainIngest
// accepts, commander must read the same way: same command, recipient and options; anything else it
// leaves to commander (null).
import { describe, expect, it } from "vitest";
import type { IngestOptions } from "../../src/cli/commands/ingest.js";
import { plainIngest } from "../../src/cli/ingest-args.js";
import { build } from "../../src/cli/program.js";

async function viaCommander(args: string[]): Promise<{ recipient: string | undefined; opts: IngestOptions }> {
  let got: { recipient: string | undefined; opts: IngestOptions } | undefined;
  await build(async (recipient, opts) => {
    got = { recipient, opts };
  }).parseAsync(["node", "ingest-mail", ...args]);
  if (!got) throw new Error(`commander did not run ingest for ${JSON.stringify(args)}`);
  return got;
}

describe("plainIngest (the MTA's call without commander)", () => {
  it.each([
    [[], undefined, {}],
    [["service+12-345@example.test"], "service+12-345@example.test", {}],
    [["ingest"], undefined, {}],
    [["ingest", "a@b.test", "--json"], "a@b.test", { json: true }],
    [["--recipient", "a@b.test", "--sender", ""], undefined, { recipient: "a@b.test", sender: "" }],
    [["--db", "/var/db", "--config=/etc/x.json", "a@b.test"], "a@b.test", { db: "/var/db", config: "/etc/x.json" }],
    [["--db", "ingest", "a@b.test"], "a@b.test", { db: "ingest" }],
    [["--sender", "ingest", "a@b.test"], "a@b.test", { sender: "ingest" }],
    [["a@b.test", "--recipient", "c@d.test"], "a@b.test", { recipient: "c@d.test" }],
    [["--db", "x", "--db", "y"], undefined, { db: "y" }],
    [[""], "", {}],
  ] as [string[], string | undefined, IngestOptions][])("%j is a plain ingest call, read as commander reads it", async (args, recipient, opts) => {
    expect(plainIngest(args)).toStrictEqual({ recipient, opts });
    expect(await viaCommander(args)).toStrictEqual({ recipient, opts });
  });

  it.each([
    [["--help"]],
    [["-h"]],
    [["help"]],
    [["--version"]],
    [["ingest", "--help"]],
    [["list"]],
    [["service"]], // no "@": could be a command name
    [["lst"]],
    [["a@b.test", "c@d.test"]], // too many arguments
    [["a@b.test", "ingest"]],
    [["ingest", "ingest"]],
    [["--recipient", "a@b.test", "ingest"]], // commander: "ingest" is the recipient argument here
    [["--sender=x", "ingest", "a@b.test"]],
    [["--bogus"]],
    [["--json=1"]],
    [["--no-json"]],
    [["--db"]],
    [["--sender", "-x"]],
    [["--recipient", "--json"]],
    [["--", "a@b.test"]],
    [["-"]],
  ])("%j is left to commander", (args) => {
    expect(plainIngest(args)).toBeNull();
  });

  it("agrees with commander on every argument list it accepts (random lists of MTA-like words)", async () => {
    const words = ["ingest", "a@b.test", "c@d.test", "", "--json", "--db", "p", "--db=q", "--recipient", "r@x.test", "--recipient=", "--sender", "s@y.test", "--sender=", "--config", "c.json", "--config=d.json", "list", "lst", "-x", "--", "--help", "-"];
    let seed = 42;
    const rnd = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
    let accepted = 0;
    for (let i = 0; i < 3000; i++) {
      const args = Array.from({ length: rnd(7) }, () => words[rnd(words.length)]);
      const plain = plainIngest(args);
      if (!plain) continue;
      accepted++;
      expect(await viaCommander(args), JSON.stringify(args)).toStrictEqual(plain);
    }
    expect(accepted).toBeGreaterThan(200);
  });
});
