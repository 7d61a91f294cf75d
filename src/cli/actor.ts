// Who an admin command acts as, for the issue history (issue 14): the OS user running it.
import { userInfo } from "node:os";

export function osUser(env: NodeJS.ProcessEnv = process.env): string {
  try {
    const name = userInfo().username;
    // sudo: the person behind it, not just "root".
    return name === "root" && env.SUDO_USER && env.SUDO_USER !== "root" ? `${env.SUDO_USER} (sudo)` : name;
  } catch {
    // No passwd entry (a container's arbitrary uid): the environment, else the number.
    return env.USER || env.LOGNAME || `uid ${process.getuid?.() ?? "?"}`;
  }
}
