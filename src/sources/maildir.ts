// A Maildir folder (cur/, new/, tmp/): one file per message. tmp/ holds deliveries still being
// written and is skipped. Names start with the delivery time, so sorting them replays in arrival order.
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";

const isDir = (p: string) => {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
};

/** A folder is a Maildir when it has both cur/ and new/. */
export function isMaildir(dir: string): boolean {
  return isDir(join(dir, "cur")) && isDir(join(dir, "new"));
}

/** The message files of a Maildir, from cur/ and new/, oldest delivery first. */
export function maildirFiles(dir: string): string[] {
  const entries: { name: string; path: string }[] = [];
  for (const sub of ["cur", "new"]) {
    for (const e of readdirSync(join(dir, sub), { withFileTypes: true })) {
      if (e.isFile() && !e.name.startsWith(".")) entries.push({ name: e.name, path: join(dir, sub, e.name) });
    }
  }
  return entries.sort((a, b) => byDeliveryTime(a.name, b.name)).map((e) => e.path);
}

// "1700000001.M1P1.host:2,S": compare the leading seconds as numbers, then the rest as text.
function byDeliveryTime(a: string, b: string): number {
  const ta = Number.parseInt(a, 10);
  const tb = Number.parseInt(b, 10);
  if (Number.isFinite(ta) && Number.isFinite(tb) && ta !== tb) return ta - tb;
  return a < b ? -1 : a > b ? 1 : 0;
}
