// End-to-end tests that drive the binary with spawnSync block this worker's event loop for the whole
// file; vitest's worker RPC ("onTaskUpdate") gives up after 60 s without a reply, which a loaded
// machine reaches in a long synchronous file. Two turns of the loop after each test (the second one
// is sure to pass through the poll phase) let the replies be read.
import { afterEach } from "vitest";

const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

afterEach(async () => {
  await turn();
  await turn();
});
