// Signals of the daemon (issue 12, point 6): SIGTERM (and SIGINT) stop it gracefully, SIGHUP
// re-reads the configuration, SIGUSR1 writes a status line. Returns the function that removes the
// handlers again.
export interface SignalActions {
  stop(signal: string): void;
  reload(): void;
  status(): void;
}

export function onSignals(actions: SignalActions, proc: NodeJS.Process = process): () => void {
  const stop = (s: NodeJS.Signals) => actions.stop(s);
  const reload = () => actions.reload();
  const status = () => actions.status();
  proc.on("SIGTERM", stop);
  proc.on("SIGINT", stop);
  proc.on("SIGHUP", reload);
  proc.on("SIGUSR1", status);
  return () => {
    proc.off("SIGTERM", stop);
    proc.off("SIGINT", stop);
    proc.off("SIGHUP", reload);
    proc.off("SIGUSR1", status);
  };
}
