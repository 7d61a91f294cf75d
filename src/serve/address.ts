// Where `serve --lmtp ADDR` listens: `unix:/path/to/socket`, `HOST:PORT`, `[IPV6]:PORT`, a bare
// PORT (loopback), or `systemd` (the socket systemd passes in, LISTEN_FDS). Pure: tested by table.
import { UsageError } from "../errors.js";

export type ListenAddress = { kind: "unix"; path: string } | { kind: "tcp"; host: string; port: number } | { kind: "fd"; fd: number };

// RFC 2033 §5: "The LMTP protocol MUST NOT be used on the TCP standard SMTP port 25."
const SMTP_PORT = 25;

/** `env` gives LISTEN_PID / LISTEN_FDS for `systemd` (sd_listen_fds(3): the first socket is fd 3). */
export function parseListenAddress(text: string, env: NodeJS.ProcessEnv = {}, pid = 0): ListenAddress {
  const t = text.trim();
  if (t === "systemd") {
    if (!env.LISTEN_FDS || Number(env.LISTEN_FDS) < 1 || (env.LISTEN_PID && Number(env.LISTEN_PID) !== pid)) {
      throw new UsageError("--lmtp systemd: no socket passed in (LISTEN_FDS); start it from the ingest-mail-lmtp.socket unit");
    }
    return { kind: "fd", fd: 3 };
  }
  if (t.startsWith("unix:")) {
    const path = t.slice("unix:".length);
    if (!path.startsWith("/")) throw new UsageError(`--lmtp ${t}: the socket path must be absolute (unix:/run/ingest-mail/lmtp.sock)`);
    return { kind: "unix", path };
  }
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([A-Za-z0-9.-]+)):(\d{1,5})$/.exec(t) ?? /^()()(\d{1,5})$/.exec(t);
  if (!m) throw new UsageError(`--lmtp "${t}": expected unix:/path, HOST:PORT or PORT`);
  const port = Number(m[3]);
  if (port < 1 || port > 65535) throw new UsageError(`--lmtp "${t}": port ${port} is out of range`);
  if (port === SMTP_PORT) throw new UsageError(`--lmtp "${t}": LMTP must never listen on port 25 (RFC 2033 §5); use a unix socket or another port`);
  return { kind: "tcp", host: m[1] || m[2] || "127.0.0.1", port };
}

export function describeAddress(a: ListenAddress): string {
  if (a.kind === "unix") return `unix:${a.path}`;
  if (a.kind === "fd") return `systemd socket (fd ${a.fd})`;
  return a.host.includes(":") ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`;
}
