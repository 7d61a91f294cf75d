// Socket activation (examples/systemd/ingest-mail-lmtp.socket, issue 14): systemd binds the socket
// and starts the daemon with it open as fd 3, announced by LISTEN_PID (this process) and LISTEN_FDS
// (how many; sd_listen_fds(3)). A long-running mode that finds one listens on it
// (`server.listen({ fd })`) instead of binding its address, so connections queue in the kernel
// while the daemon restarts.

/** The first socket systemd passed to this process, or null when it was not socket-activated. */
export function systemdListenFd(env: NodeJS.ProcessEnv, pid: number = process.pid): number | null {
  // LISTEN_PID guards against a variable inherited by a child that was not meant to take the socket.
  if (env.LISTEN_PID !== String(pid)) return null;
  const n = Number(env.LISTEN_FDS);
  return Number.isInteger(n) && n >= 1 ? 3 : null;
}
