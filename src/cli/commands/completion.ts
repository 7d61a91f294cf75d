// `ingest-mail completion bash|zsh`: prints the completion script that the build generated from the
// command definitions (scripts/gen-docs.mjs), shipped in dist/completion/.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { packageRoot } from "../../store/sqlite/open.js";

export const completionFile = (shell: "bash" | "zsh") => join(packageRoot, "dist", "completion", shell === "bash" ? "ingest-mail.bash" : "_ingest-mail");

export async function run(shell: "bash" | "zsh"): Promise<void> {
  process.stdout.write(readFileSync(completionFile(shell)));
}
