// The man page and shell completions generated at build time from the commander definitions
// (scripts/gen-docs.mjs, issue 14 point 6): every command is in them, and bash completes with them.
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { bin, root } from "./helpers/cli.js";

const bashFile = join(root, "dist", "completion", "ingest-mail.bash");
const zshFile = join(root, "dist", "completion", "_ingest-mail");
const manFile = join(root, "dist", "man", "ingest-mail.1");

/** What bash completion offers for the words typed so far (the last one being completed). */
function complete(...typed: string[]): string[] {
  const words = ["ingest-mail", ...typed];
  const script = `source ${JSON.stringify(bashFile)}
COMP_WORDS=(${words.map((w) => `'${w}'`).join(" ")}); COMP_CWORD=${words.length - 1}
_ingest_mail; printf '%s\\n' "\${COMPREPLY[@]}"`;
  const r = spawnSync("bash", ["--norc", "-c", script], { encoding: "utf8" });
  expect(r.status, r.stderr).toBe(0);
  return r.stdout.split("\n").filter(Boolean).sort();
}

/** Top-level commands as commander lists them in --help. */
function commands(): string[] {
  const help = spawnSync(process.execPath, [bin, "--help"], { encoding: "utf8" }).stdout;
  const block = help.split(/^Commands:$/m)[1].split(/\n\s*\n/)[0];
  return [...block.matchAll(/^ {2}([a-z][a-z-]*)/gm)].map((m) => m[1]).filter((c) => c !== "help");
}

describe("generated man page and completions", () => {
  it("the man page documents every command, with its options", () => {
    const man = readFileSync(manFile, "utf8");
    expect(man).toMatch(/^\.TH INGEST\\-MAIL 1 /);
    for (const c of commands()) expect(man, c).toContain(`.SS "ingest\\-mail ${c.replace(/-/g, "\\-")}`);
    expect(man).toContain('.SS "ingest\\-mail issue set\\-state <id> <state> [options]"');
    expect(man).toContain("\\-\\-older\\-than <minutes>");
    // man(1) renders it without complaint.
    const r = spawnSync("sh", ["-c", `command -v groff >/dev/null || exit 99; groff -man -Tutf8 -ww ${JSON.stringify(manFile)} >/dev/null`], { encoding: "utf8" });
    if (r.status !== 99) expect(r.stderr).toBe("");
  });

  it.each([
    [[""], (c: string[]) => commands().every((x) => c.includes(x))],
    [["iss"], (c: string[]) => c.join(" ") === "issue"],
    [["issue", "s"], (c: string[]) => c.join(" ") === "set-state show split"],
    [["list", "--status", ""], (c: string[]) => c.includes("held") && c.includes("in_process") && c.every((x) => !x.startsWith("-"))],
    [["issue", "create", "--kind", ""], (c: string[]) => c.join(" ") === "action case ticket"],
    [["doctor", "--"], (c: string[]) => c.includes("--as") && c.includes("--json") && c.includes("--timeout")],
    [["config", ""], (c: string[]) => c.join(" ") === "check show"],
    [["--db", "x.db", "li"], (c: string[]) => c.join(" ") === "list"],
  ])("bash: ingest-mail %j → offers the right words", (typed, ok) => {
    const offered = complete(...typed);
    expect(ok(offered), offered.join(" ")).toBe(true);
  });

  it("completion bash|zsh prints the shipped scripts", () => {
    for (const [shell, file] of [["bash", bashFile], ["zsh", zshFile]]) {
      const r = spawnSync(process.execPath, [bin, "completion", shell], { encoding: "utf8" });
      expect(r.status).toBe(0);
      expect(r.stdout).toBe(readFileSync(file, "utf8"));
    }
  });

  it("the zsh script is valid zsh (where zsh is installed)", (ctx) => {
    const text = readFileSync(zshFile, "utf8");
    expect(text.startsWith("#compdef ingest-mail\n")).toBe(true);
    for (const c of commands()) expect(text, c).toContain(`'${c}`);
    if (spawnSync("sh", ["-c", "command -v zsh"]).status !== 0) {
      console.warn("[completion] zsh is not installed: its syntax check is skipped (apt-get install zsh to run it)");
      return ctx.skip();
    }
    expect(spawnSync("zsh", ["-n", zshFile], { encoding: "utf8" }).stderr).toBe("");
  });
});
