// Running as the delivery user (doctor, issue 14): who owns the database, looking a user up, and
// dropping root for that user (supplementary groups, then gid, then uid: after setuid there is no
// way back, so the order matters).
import { spawnSync } from "node:child_process";
import { readFileSync, statSync } from "node:fs";
import { userInfo } from "node:os";
import { nearestExisting } from "../doctor/probe.js";
import { dropTo } from "../fsafe.js";

export interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
  home: string;
}

/** A passwd line: name:x:uid:gid:gecos:home:shell. */
export function parsePasswdLine(line: string): PasswdEntry | null {
  const f = line.split(":");
  if (f.length < 7 || !/^\d+$/.test(f[2]) || !/^\d+$/.test(f[3])) return null;
  return { name: f[0], uid: Number(f[2]), gid: Number(f[3]), home: f[5] };
}

/** A user by name or numeric id, through NSS (getent) when available, else /etc/passwd. */
export function lookupUser(who: string | number): PasswdEntry | null {
  const key = String(who);
  const r = spawnSync("getent", ["passwd", key], { encoding: "utf8" });
  if (r.status === 0) return parsePasswdLine(r.stdout.trim().split("\n")[0]);
  if (!r.error) return null; // getent ran and found nobody
  try {
    for (const line of readFileSync("/etc/passwd", "utf8").split("\n")) {
      const e = parsePasswdLine(line);
      if (e && (e.name === key || String(e.uid) === key)) return e;
    }
  } catch {
    // no passwd file: unknown
  }
  return null;
}

export function currentUser(): PasswdEntry {
  const uid = process.getuid?.() ?? -1;
  const known = uid >= 0 ? lookupUser(uid) : null;
  if (known) return known;
  const info = userInfo();
  return { name: info.username, uid, gid: process.getgid?.() ?? -1, home: info.homedir };
}

/** The owner of the database file, else of the folder it would be created in. */
export function ownerOf(path: string): PasswdEntry | null {
  try {
    const uid = statSync(nearestExisting(path)).uid;
    return lookupUser(uid) ?? { name: String(uid), uid, gid: uid, home: "/" };
  } catch {
    return null;
  }
}

/** root → user (fsafe.ts: dropTo); HOME/USER/LOGNAME follow, as they would for that user's processes. */
export function switchTo(user: PasswdEntry, env: NodeJS.ProcessEnv = process.env): void {
  dropTo(user);
  env.HOME = user.home;
  env.USER = user.name;
  env.LOGNAME = user.name;
}
