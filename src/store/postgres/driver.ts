// node-postgres, for the PostgreSQL engine only (nothing else imports pg). The order of the imports
// is the point: probe-off.ts runs before pg loads (see there).
import { restoreNavigator } from "./probe-off.js";
import pg from "pg";

restoreNavigator();

export default pg;
