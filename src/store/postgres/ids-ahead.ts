// Ids drawn ahead of the rows that take them (TxOptions.batch, issue 11.9): an INSERT whose only
// answer anyone needs is the new id can then be deferred, sent with the next statement waited for
// (Conn's pipeline), instead of costing a round trip of its own. Each id comes from the table's
// identity sequence as before, so writers on other connections and hosts never collide with it.
import type { QueryConfig, QueryResult } from "pg";

/** What ids-ahead needs of a connection in a transaction (engine.ts Conn). */
export interface AheadConn {
  run(config: QueryConfig | string): Promise<QueryResult>;
  prefetch(config: QueryConfig | string): { seq: number; answer: Promise<QueryResult> };
  holds(seq: number): boolean;
  settle(): Promise<void>;
}

interface Drawn {
  conn: AheadConn;
  seq: number;
  id: Promise<number>;
}

/**
 * One id drawn ahead per table, for the store (every transaction of the process). Taking it draws
 * the next one, held to ride with the next statement waited for: a run of imported mails waits
 * for no id after the first, ids stay in the order they are taken, and at most one per table is
 * never used (drawn for a row that did not come before the process ended). A sequence value is
 * never given out twice, whether or not the transaction that drew it commits.
 */
export class IdsAhead {
  private readonly drawn = new Map<string, Drawn>();

  async take(conn: AheadConn, table: string, query: (sql: string) => QueryConfig): Promise<number> {
    const sql = query(`SELECT nextval(pg_get_serial_sequence('"${table}"', 'id')) AS id`);
    const drawn = this.drawn.get(table);
    this.drawn.delete(table);
    let id: number | undefined;
    if (drawn) {
      // Held still: this transaction sends it now (two rows of a table in one unit); another's
      // (concurrent batches) is left to it, and its id unused.
      if (drawn.conn === conn && conn.holds(drawn.seq)) await conn.settle();
      if (!drawn.conn.holds(drawn.seq)) id = await drawn.id.catch(() => undefined);
    }
    // None yet, or its transaction ended before sending it: drawn now, waited for. First, so that
    // the one drawn ahead below is the larger.
    id ??= Number((await conn.run(sql)).rows[0].id);
    const next = conn.prefetch(sql);
    const nextId = next.answer.then((r) => Number(r.rows[0].id));
    nextId.catch(() => {}); // not sent, or failed with its transaction: take() draws anew
    this.drawn.set(table, { conn, seq: next.seq, id: nextId });
    return id;
  }
}
