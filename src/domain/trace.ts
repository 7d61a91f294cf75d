// One step of a staged mail's trace (issue 11, point 5): what each stage decided and why. Stored on
// the record (JSON) and printed by `--json`, `show` and the web console: a contract (add fields, never rename).
export interface TraceStep {
  step: string;
  decision: string;
  reason: string;
}
