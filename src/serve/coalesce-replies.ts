// Replies to pipelined commands go out in one write (RFC 2920, PIPELINING: the client sends MAIL,
// RCPT and DATA together and reads the replies together). smtp-server writes each reply on its
// own, so a delivery cost the daemon three writes and the client up to three wake-ups before its
// DATA could start. Whatever the server writes while it handles one chunk of client input is held
// (socket.cork) and sent at the end of that turn of the event loop. The bytes and their order are
// unchanged; a reply written later (the 250s after a group commit) goes out when it is written.
// Measured at 8 connections, 20 pairs run in turn against the build without it: acknowledged higher
// in 18 (1.06–1.16×), time to 250 at p50 0.81–0.87×; processed and CPU per mail within the noise
// (docs/lmtp.md).
import type { Server, Socket } from "node:net";

/** Makes every connection of `server` send what it writes during one input chunk's handling at once. */
export function coalesceReplies(server: Server): void {
  // Prepended, so the socket's own 'data' listener (the protocol parser, attached in the library's
  // 'connection' handler) runs after the cork.
  server.prependListener("connection", (socket: Socket) => {
    let held = false;
    socket.prependListener("data", () => {
      if (held) return;
      held = true;
      socket.cork();
      setImmediate(() => {
        held = false;
        socket.uncork();
      });
    });
  });
}
