// issue 12, point 3: deliveries that arrive together share one commit, and nobody hears back
// before the commit holding its delivery has returned.
import { describe, expect, it } from "vitest";
import { GroupCommit } from "../../src/serve/group-commit.js";

describe("GroupCommit", () => {
  it("stages what arrives in the same turn in one commit and settles each caller after it", async () => {
    const commits: number[][] = [];
    const g = new GroupCommit<number, string>((items) => {
      commits.push(items);
      return items.map((i) => `ok ${i}`);
    }, { windowMs: 0, maxBatch: 100 });
    const settled: string[] = [];
    const all = [1, 2, 3].map((i) => g.stage(i).then((r) => settled.push(r)));
    expect(commits).toEqual([]); // nothing before the turn ends
    await Promise.all(all);
    expect(commits).toEqual([[1, 2, 3]]);
    expect(settled).toEqual(["ok 1", "ok 2", "ok 3"]);
    expect(g.stats).toEqual({ commits: 1, deliveries: 3, largest: 3 });
  });

  it("splits at maxBatch and keeps the order", async () => {
    const commits: number[][] = [];
    const g = new GroupCommit<number, number>((items) => (commits.push(items), items), { windowMs: 0, maxBatch: 2 });
    expect(await Promise.all([1, 2, 3, 4, 5].map((i) => g.stage(i)))).toEqual([1, 2, 3, 4, 5]);
    expect(commits).toEqual([[1, 2], [3, 4], [5]]);
  });

  it("collects for windowMs when asked", async () => {
    const commits: number[][] = [];
    const g = new GroupCommit<number, number>((items) => (commits.push(items), items), { windowMs: 30, maxBatch: 100 });
    const first = g.stage(1);
    await new Promise((r) => setTimeout(r, 5));
    const second = g.stage(2);
    await Promise.all([first, second]);
    expect(commits).toEqual([[1, 2]]);
  });

  it("does not wait out the window once every delivery on its way has arrived", async () => {
    const commits: number[][] = [];
    let onTheWay = 2;
    const g = new GroupCommit<number, number>((items) => (commits.push(items), items), { windowMs: 10_000, maxBatch: 100, onTheWay: () => onTheWay });
    const started = Date.now();
    onTheWay = 1; // the first has arrived, one more is still being received
    const first = g.stage(1);
    await new Promise((r) => setTimeout(r, 5));
    expect(commits).toEqual([]);
    onTheWay = 0;
    await Promise.all([first, g.stage(2)]);
    expect(commits).toEqual([[1, 2]]);
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it("a failed commit rejects every delivery of its group and none of the next", async () => {
    let fail = true;
    const g = new GroupCommit<number, number>((items) => {
      if (fail) throw new Error("disk full");
      return items;
    }, { windowMs: 0, maxBatch: 100 });
    const a = g.stage(1);
    const b = g.stage(2);
    await expect(a).rejects.toThrow("disk full");
    await expect(b).rejects.toThrow("disk full");
    fail = false;
    expect(await g.stage(3)).toBe(3);
  });

  it("an asynchronous commit runs alone: what arrives meanwhile waits for it, forms the next group and hears back only after its own commit", async () => {
    const commits: number[][] = [];
    const finish: (() => void)[] = [];
    let running = 0;
    const g = new GroupCommit<number, number>(async (items) => {
      expect(++running).toBe(1);
      commits.push(items);
      await new Promise<void>((r) => finish.push(r));
      running--;
      return items;
    }, { windowMs: 0, maxBatch: 100 });
    const settled: number[] = [];
    const first = g.stage(1).then((r) => settled.push(r));
    await new Promise((r) => setTimeout(r, 5));
    expect(commits).toEqual([[1]]);
    const later = [2, 3].map((i) => g.stage(i).then((r) => settled.push(r)));
    await new Promise((r) => setTimeout(r, 5));
    expect(commits).toEqual([[1]]); // the first commit has not returned: nobody else commits
    expect(g.pending).toBe(3);
    finish.shift()!();
    await first;
    expect(settled).toEqual([1]);
    await new Promise((r) => setTimeout(r, 5));
    expect(commits).toEqual([[1], [2, 3]]);
    expect(settled).toEqual([1]); // no reply before the commit holding it has returned
    finish.shift()!();
    await Promise.all(later);
    expect(settled).toEqual([1, 2, 3]);
    expect(g.pending).toBe(0);
  });
});
