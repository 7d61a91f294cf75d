// The console's login password, kept only as a scrypt hash in the config (`web.passwordHash`), made
// by `ingest-mail web passwd`. node:crypto only: no dependency for a key derivation it already has.
import { randomBytes, scryptSync, timingSafeEqual } from "node:crypto";

// scrypt parameters (RFC 7914 §2): N = 2^15 with r = 8 needs 32 MiB and ~50 ms per check here.
const N = 32768;
const R = 8;
const P = 1;
const KEYLEN = 32;
const maxmem = 64 * 1024 * 1024;

/** `scrypt$N$r$p$salt$hash`, salt and hash base64url. */
export function hashPassword(password: string, salt: Buffer = randomBytes(16)): string {
  const key = scryptSync(password.normalize("NFC"), salt, KEYLEN, { N, r: R, p: P, maxmem });
  return ["scrypt", N, R, P, salt.toString("base64url"), key.toString("base64url")].join("$");
}

/** Whether the string has the shape hashPassword makes (config validation). */
export function isPasswordHash(s: string): boolean {
  return /^scrypt\$\d+\$\d+\$\d+\$[\w-]+\$[\w-]+$/.test(s);
}

export function verifyPassword(password: string, stored: string): boolean {
  const [alg, n, r, p, salt, hash] = stored.split("$");
  if (alg !== "scrypt" || !salt || !hash) return false;
  const want = Buffer.from(hash, "base64url");
  const N2 = Number(n);
  const R2 = Number(r);
  const P2 = Number(p);
  if (!(N2 > 1 && N2 <= 1 << 20 && R2 > 0 && R2 <= 32 && P2 > 0 && P2 <= 16)) return false;
  const got = scryptSync(password.normalize("NFC"), Buffer.from(salt, "base64url"), want.length, { N: N2, r: R2, p: P2, maxmem: 256 * N2 * R2 + maxmem });
  return got.length === want.length && timingSafeEqual(got, want);
}
