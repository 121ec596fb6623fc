// Wisp acceptance app: every Spin host capability the Spin JS SDK 2.0.0
// offers, one route each, with answers a test can compare byte for byte.
//
// Names of keys, tables, prefixes and topics come from the query string so
// concurrent tests never collide. JSON conventions (see README.md):
//   * 64-bit integers (JS BigInt: s64/u64 results) are JSON strings,
//   * byte arrays (Uint8Array) are "0x" + lower-case hex,
//   * WIT error variants are reported as {"tag": ..., "val": ...}.

import {
  Router,
  Kv,
  Variables,
  Sqlite,
  Redis,
  Postgres,
  Mysql,
  Mqtt,
} from "@fermyon/spin-sdk";

const enc = new TextEncoder();
const dec = new TextDecoder();

const router = Router();

router.get("/kv", (meta, req, res) => {
  const key = name(meta, "key");
  const store = Kv.openDefault();
  store.set(key, `value of ${key}`);
  store.setJson(`${key}-json`, { n: 1, s: "two" });
  const out = {
    key,
    get: dec.decode(store.get(key)),
    json: store.getJson(`${key}-json`),
    exists: store.exists(key),
    keys: store
      .getKeys()
      .filter((k) => k.startsWith(key))
      .sort(),
  };
  store.delete(key);
  store.delete(`${key}-json`);
  out.existsAfterDelete = store.exists(key);
  out.getAfterDelete = store.get(key) ?? null;
  out.deleteMissing = attempt(() => store.delete(key));
  out.openUndeclared = attempt(() => Kv.open("not-in-manifest"));
  json(res, out);
});

// /kv/set and /kv/get leave data behind, for the isolation test.
router.get("/kv/set", (meta, req, res) => {
  Kv.openDefault().set(name(meta, "key"), param(meta, "value"));
  text(res, "ok\n");
});

router.get("/kv/get", (meta, req, res) => {
  const value = Kv.openDefault().get(name(meta, "key"));
  if (value === undefined || value === null) {
    text(res, "not found\n", 404);
  } else {
    text(res, dec.decode(value));
  }
});

router.get("/variables", (meta, req, res) => {
  json(res, {
    greeting: Variables.get("greeting"),
    api_token: Variables.get("api_token"),
    undeclared: Variables.get("not_declared"),
  });
});

router.get("/sqlite", (meta, req, res) => {
  const table = name(meta, "table");
  const db = Sqlite.openDefault();
  const created = db.execute(
    `CREATE TABLE IF NOT EXISTS ${table} (id INTEGER PRIMARY KEY, name TEXT NOT NULL, score REAL, data BLOB, note TEXT)`,
    [],
  );
  const insert = `INSERT INTO ${table} (id, name, score, data, note) VALUES (?, ?, ?, ?, ?)`;
  // Plain JS values go through the SDK's conversion (number -> integer or
  // real, bigint -> integer, string -> text). SDK 2.0.0 passes every object
  // through unconverted, so blobs and NULL must be spelled out as variants.
  db.execute(insert, [1, "o'brien", 1.5, blob([0, 1, 2, 255], "blob"), { tag: "null" }]);
  db.execute(insert, [2n, "bob", -2.25, blob([], "blob"), "second"]);
  const result = db.execute(
    `SELECT id, name, score, data, note, typeof(id) AS t FROM ${table} ORDER BY id`,
    [],
  );
  json(res, {
    createdColumns: created.columns,
    columns: result.columns,
    rows: result.rows.map((row) => fill(result.columns, row)),
    badSql: attempt(() => db.execute("SELECT * FROM no_such_table_here", [])),
    openUndeclared: attempt(() => Sqlite.open("not-in-manifest")),
  });
});

// /sqlite/set and /sqlite/get leave data behind, for the isolation test.
router.get("/sqlite/set", (meta, req, res) => {
  const db = Sqlite.openDefault();
  db.execute("CREATE TABLE IF NOT EXISTS wisp_iso (k TEXT PRIMARY KEY, v TEXT NOT NULL)", []);
  db.execute("INSERT OR REPLACE INTO wisp_iso (k, v) VALUES (?, ?)", [
    name(meta, "key"),
    param(meta, "value"),
  ]);
  text(res, "ok\n");
});

router.get("/sqlite/get", (meta, req, res) => {
  const db = Sqlite.openDefault();
  db.execute("CREATE TABLE IF NOT EXISTS wisp_iso (k TEXT PRIMARY KEY, v TEXT NOT NULL)", []);
  const r = db.execute("SELECT v FROM wisp_iso WHERE k = ?", [name(meta, "key")]);
  if (r.rows.length === 0) {
    text(res, "not found\n", 404);
  } else {
    text(res, r.rows[0].v);
  }
});

// Service addresses are application variables (spin.toml) whose defaults
// match allowed_outbound_hosts.
router.get("/redis", (meta, req, res) => {
  const p = name(meta, "prefix");
  const channel = name(meta, "channel");
  const conn = Redis.open(Variables.get("redis_address"));
  conn.set(`${p}:str`, enc.encode("hello from js"));
  const got = conn.get(`${p}:str`);
  const incr = [conn.incr(`${p}:counter`), conn.incr(`${p}:counter`)];
  conn.set(`${p}:tmp`, enc.encode("x"));
  const del = conn.del([`${p}:tmp`, `${p}:never-set`]);
  const sadd = conn.sadd(`${p}:set`, ["a", "b", "c"]);
  const srem = conn.srem(`${p}:set`, ["b", "z"]);
  const smembers = conn.smembers(`${p}:set`).sort();
  const execSet = conn.execute("SET", [
    { tag: "binary", val: enc.encode(`${p}:exec`) },
    { tag: "binary", val: enc.encode("via execute") },
  ]);
  const execGet = conn.execute("GET", [{ tag: "binary", val: enc.encode(`${p}:exec`) }]);
  const execIncrBy = conn.execute("INCRBY", [
    { tag: "binary", val: enc.encode(`${p}:counter`) },
    { tag: "int64", val: 40n },
  ]);
  const execMissing = conn.execute("GET", [{ tag: "binary", val: enc.encode(`${p}:never-set`) }]);
  conn.publish(channel, enc.encode(`published by js to ${channel}`));
  json(res, {
    get: got === undefined ? null : dec.decode(got),
    getMissing: conn.get(`${p}:never-set`) ?? null,
    incr,
    del,
    sadd,
    srem,
    smembers,
    execSet: execSet.map(redisResult),
    execGet: execGet.map(redisResult),
    execIncrBy: execIncrBy.map(redisResult),
    execMissing: execMissing.map(redisResult),
    incrNotNumber: attempt(() => conn.incr(`${p}:str`)),
    published: true,
  });
});

router.get("/postgres", (meta, req, res) => {
  const table = name(meta, "table");
  const db = Postgres.open(Variables.get("postgres_address"));
  const created = db.execute(
    `CREATE TABLE ${table} (id integer PRIMARY KEY, name text NOT NULL, score double precision, big bigint, flag boolean, data bytea, note text)`,
    [],
  );
  const insert = `INSERT INTO ${table} (id, name, score, big, flag, data, note) VALUES ($1, $2, $3, $4, $5, $6, $7)`;
  // JS values through the SDK's conversion: number -> int32/floating64,
  // bigint -> int64, string -> str, boolean -> boolean. Objects (bytes,
  // NULL) pass through unconverted in SDK 2.0.0, so they are variants here.
  const inserted = [
    db.execute(insert, [1, "o'brien", 1.5, 9007199254740993n, true, blob([0, 1, 2, 255]), { tag: "db-null" }]),
    db.execute(insert, [2, "bob", -2.25, -5n, false, blob([]), "second"]),
  ];
  const result = db.query(
    `SELECT id, name, score, big, flag, data, note FROM ${table} WHERE id >= $1 ORDER BY id`,
    [{ tag: "int32", val: 0 }],
  );
  json(res, {
    created,
    inserted,
    columns: result.columns,
    rows: result.rows,
    badSql: attempt(() => db.query("SELECT * FROM no_such_table_here", [])),
  });
});

router.get("/mysql", (meta, req, res) => {
  const table = name(meta, "table");
  const db = Mysql.open(Variables.get("mysql_address"));
  db.execute(
    `CREATE TABLE ${table} (id INT PRIMARY KEY, name VARCHAR(64) NOT NULL, score DOUBLE, big BIGINT, small TINYINT UNSIGNED, data BLOB, note TEXT)`,
    [],
  );
  const insert = `INSERT INTO ${table} (id, name, score, big, small, data, note) VALUES (?, ?, ?, ?, ?, ?, ?)`;
  db.execute(insert, [1, "o'brien", 1.5, 9007199254740993n, { tag: "uint8", val: 200 }, blob([0, 1, 2, 255]), { tag: "db-null" }]);
  db.execute(insert, [2, "bob", -2.25, -5n, { tag: "uint8", val: 0 }, blob([]), "second"]);
  const result = db.query(
    `SELECT id, name, score, big, small, data, note FROM ${table} WHERE id >= ? ORDER BY id`,
    [{ tag: "int32", val: 0 }],
  );
  json(res, {
    columns: result.columns,
    rows: result.rows,
    badSql: attempt(() => db.query("SELECT * FROM no_such_table_here", [])),
  });
});

router.get("/mqtt", (meta, req, res) => {
  const topic = name(meta, "topic");
  let address = Variables.get("mqtt_address");
  // Spin's MQTT client wants a client id in the address.
  address += (address.includes("?") ? "&" : "?") + `client_id=${topic.replace(/\W/g, "_")}`;
  const conn = Mqtt.open(address, "", "", 30n);
  conn.publish(topic, enc.encode("one: at-most-once"), Mqtt.QoS.AtMostOnce);
  conn.publish(topic, enc.encode("two: at-least-once"), Mqtt.QoS.AtLeastOnce);
  conn.publish(topic, enc.encode("three: exactly-once"), Mqtt.QoS.ExactlyOnce);
  json(res, { topic, published: 3 });
});

// /denied: every outbound capability asked for a host that spin.toml does
// not allow; each must fail with a WIT error, not reach the network.
router.get("/denied", (meta, req, res) => {
  json(res, {
    redis: tagOf(() => Redis.open("redis://127.0.0.2:6379")),
    postgres: tagOf(() =>
      Postgres.open("postgres://postgres@127.0.0.2:5432/test").query("SELECT 1", []),
    ),
    mysql: tagOf(() => Mysql.open("mysql://root@127.0.0.2:3306/test").query("SELECT 1", [])),
    mqtt: tagOf(() =>
      Mqtt.open("mqtt://127.0.0.2:1883?client_id=denied", "", "", 30n).publish(
        "t",
        enc.encode("x"),
        Mqtt.QoS.AtMostOnce,
      ),
    ),
  });
});

router.all("*", (meta, req, res) => {
  text(res, `not found: ${new URL(meta.url).pathname}\n`, 404);
});

export async function handler(req, res) {
  try {
    await router.handleRequest(req, res);
  } catch (e) {
    if (e instanceof BadRequest) {
      text(res, `${e.message}\n`, 400);
      return;
    }
    json(res, { error: describe(e) }, 500);
  }
}

class BadRequest extends Error {}

function param(meta, key) {
  const v = new URL(meta.url).searchParams.get(key);
  if (v === null || v === "") throw new BadRequest(`missing query parameter ${key}`);
  return v;
}

// name is a query parameter used inside SQL, keys or topics: it must be a
// plain identifier so the app cannot be driven into SQL injection.
function name(meta, key) {
  const v = param(meta, key);
  if (!/^[A-Za-z_][A-Za-z0-9_]{0,62}$/.test(v)) {
    throw new BadRequest(`bad ${key}: want [A-Za-z_][A-Za-z0-9_]{0,62}`);
  }
  return v;
}

// attempt runs fn and reports "ok" or the WIT error it threw.
function attempt(fn) {
  try {
    fn();
    return "ok";
  } catch (e) {
    return describe(e);
  }
}

// tagOf is attempt reduced to the error variant's case name.
function tagOf(fn) {
  const r = attempt(fn);
  return typeof r === "object" && r !== null && "tag" in r ? r.tag : r;
}

// describe turns a thrown value into JSON: ComponentizeJS throws WIT
// errors as an Error whose payload is the variant {tag, val}.
function describe(e) {
  if (e && typeof e === "object" && "payload" in e) return e.payload;
  return String(e);
}

// blob is a byte-array parameter: "binary" for PostgreSQL/MySQL, "blob"
// for SQLite.
function blob(bytes, tag = "binary") {
  return { tag, val: new Uint8Array(bytes) };
}

function redisResult(r) {
  return r.tag === "nil" ? { tag: "nil" } : { tag: r.tag, val: r.val };
}

// fill makes every column present in a SQLite row (the SDK leaves SQL NULL
// out, as undefined).
function fill(columns, row) {
  const out = {};
  for (const c of columns) out[c] = row[c] === undefined ? null : row[c];
  return out;
}

function jsonValue(key, value) {
  if (typeof value === "bigint") return value.toString();
  if (value instanceof Uint8Array) {
    return "0x" + Array.from(value, (b) => b.toString(16).padStart(2, "0")).join("");
  }
  return value;
}

function json(res, value, status = 200) {
  res.status(status);
  res.set("content-type", "application/json");
  res.send(JSON.stringify(value, jsonValue) + "\n");
}

function text(res, body, status = 200) {
  res.status(status);
  res.set("content-type", "text/plain; charset=utf-8");
  res.send(body);
}
