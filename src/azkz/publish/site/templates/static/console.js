// SQL console: DuckDB-WASM (vendored, no CDN) over the release's Parquet files.
// The database lives in this tab's memory only, so nothing a query does can change the release.
// DuckDB-WASM would fetch its Parquet reader from DuckDB's extension server, so the files are
// decoded by parquet-wasm into Arrow instead, and extension downloads are switched off.
const config = JSON.parse(document.getElementById("console-config").textContent);
const absolute = (path) => new URL(path, document.baseURI).href;
const duckdb = await import(absolute(config.module));
const parquet = await import(absolute(config.parquetModule));

const status = document.getElementById("console-status");
const form = document.getElementById("console-form");
const textarea = document.getElementById("sql");
const runButton = document.getElementById("run");
const results = document.getElementById("results");
const summary = document.getElementById("result-summary");
const MAX_SHOWN_ROWS = 1000;

function quoteIdent(name) {
  return '"' + name.replaceAll('"', '""') + '"';
}

async function fetchBytes(url) {
  const response = await fetch(absolute(url));
  if (!response.ok) {
    throw new Error(`${url}: HTTP ${response.status}`);
  }
  return new Uint8Array(await response.arrayBuffer());
}

async function openDatabase() {
  const worker = new Worker(absolute(config.worker));
  const db = new duckdb.AsyncDuckDB(new duckdb.VoidLogger(), worker);
  await Promise.all([db.instantiate(absolute(config.wasm)),
                     parquet.default({ module_or_path: absolute(config.parquetWasm) })]);
  const conn = await db.connect();
  await conn.query("SET autoinstall_known_extensions = false");
  await conn.query("SET autoload_known_extensions = false");
  const files = await Promise.all(config.tables.map((table) => fetchBytes(table.url)));
  for (const [i, table] of config.tables.entries()) {
    const arrow = parquet.readParquet(files[i]).intoIPCStream();
    await conn.insertArrowFromIPCStream(arrow, { name: table.name, create: true });
  }
  return conn;
}

function cellText(value, type) {
  if (value === null || value === undefined) return "";
  if (value instanceof Date) return value.toISOString().slice(0, 10);
  if (typeof value === "number" && type.startsWith("Date")) {
    return new Date(value).toISOString().slice(0, 10);
  }
  if (typeof value === "object") return JSON.stringify(value, (_k, v) => typeof v === "bigint" ? v.toString() : v);
  return String(value);
}

function showTable(table) {
  const fields = table.schema.fields;
  const head = document.createElement("thead");
  const headRow = head.insertRow();
  for (const field of fields) {
    const th = document.createElement("th");
    th.scope = "col";
    th.textContent = field.name;
    headRow.appendChild(th);
  }
  const body = document.createElement("tbody");
  const shown = Math.min(table.numRows, MAX_SHOWN_ROWS);
  for (let i = 0; i < shown; i++) {
    const row = table.get(i);
    const tr = body.insertRow();
    for (const field of fields) {
      tr.insertCell().textContent = cellText(row[field.name], String(field.type));
    }
  }
  results.replaceChildren(head, body);
  summary.dataset.rows = String(table.numRows);
  summary.textContent = table.numRows === shown
    ? `${table.numRows} rows`
    : `${table.numRows} rows (showing the first ${shown})`;
}

async function run(conn) {
  runButton.disabled = true;
  summary.textContent = "Running…";
  delete summary.dataset.rows;
  try {
    showTable(await conn.query(textarea.value));
  } catch (error) {
    results.replaceChildren();
    summary.textContent = `Error: ${error.message}`;
  } finally {
    runButton.disabled = false;
  }
}

try {
  const conn = await openDatabase();
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    run(conn);
  });
  for (const button of document.querySelectorAll("button.example")) {
    button.addEventListener("click", () => {
      textarea.value = button.dataset.sql;
      run(conn);
    });
  }
  runButton.disabled = false;
  status.dataset.ready = "true";
  status.textContent = `Ready: ${config.tables.length} tables loaded.`;
} catch (error) {
  status.textContent = `The console could not start: ${error.message}`;
}
