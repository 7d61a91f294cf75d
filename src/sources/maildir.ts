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

/**
 * The entries of a Maildir's cur/ and new/ (dot files aside), oldest delivery first; the caller
 * sorts out what is not a message file. A sub-folder that cannot be read goes to `unreadable`, and
 * the other one is still read.
 */
export function maildirFiles(dir: string, unreadable: (folder: string, e: unknown) => void = (_, e) => { throw e; }): string[] {
  const entries: { name: string; path: string }[] = [];
  for (const sub of ["cur", "new"]) {
    let names: string[];
    try {
      names = readdirSync(join(dir, sub));
    } catch (e) {
      unreadable(join(dir, sub), e);
      continue;
    }
    for (const name of names) if (!name.startsWith(".")) entries.push({ name, path: join(dir, sub, name) });
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
