// The load scenario: a fixed arrival rate of the API's operations, whatever the latency.
//
// Every setting comes from the environment (`k6 run -e NAME=value` or exported variables):
//
//   BASE_URL      the service (default http://127.0.0.1:8080)
//   RATE          requests a minute, for a constant rate (default 30000)
//   DURATION      how long the constant rate lasts (default 2m)
//   STAGES        a stepped load instead: "rpm:duration,..." such as "1000:30s,5000:30s,30000:1m";
//                 each stage ramps to its rate within RAMP (default 5s), then holds it
//   MIX           the operation mix in percent (default get=70,list=10,create=10,replace=5,delete=5)
//   USERS         users seeded in setup() for reads (default 1000)
//   PAGE_SIZE     users a list page asks for (default 20)
//   P99_MS        threshold on the 99th percentile of request duration (default 100)
//   MAX_ERROR_RATE  threshold on the share of failed requests (default 0: none)
//   MAX_DROPPED   threshold on iterations k6 could not start in time (default 0: the rate held)
//   VUS / MAX_VUS pre-allocated and most virtual users (default from the rate)
//   SUMMARY       where handleSummary writes k6's summary as JSON (default: not written)
//
// One iteration is one request, so the iteration rate is the request rate. Each virtual user
// replaces and deletes only the users it created itself, with If-Match from their last ETag, so
// every answer has exactly one correct status and a wrong one is an error, never noise.

import http from "k6/http";
import { check, fail } from "k6";
import { Counter } from "k6/metrics";

const BASE_URL = (__ENV.BASE_URL || "http://127.0.0.1:8080").replace(/\/+$/, "");
const RATE = positiveNumber("RATE", 30000);
const DURATION = __ENV.DURATION || "2m";
const RAMP = __ENV.RAMP || "5s";
const USERS = positiveNumber("USERS", 1000);
const PAGE_SIZE = positiveNumber("PAGE_SIZE", 20);
const P99_MS = positiveNumber("P99_MS", 100);
const MAX_ERROR_RATE = Number(__ENV.MAX_ERROR_RATE || 0);
const MAX_DROPPED = Number(__ENV.MAX_DROPPED || 0);
const STAGES = parseStages(__ENV.STAGES || "");
const MIX = parseMix(__ENV.MIX || "get=70,list=10,create=10,replace=5,delete=5");
const PEAK_RPM = STAGES.length ? Math.max(...STAGES.map((stage) => stage.target)) : RATE;
// Little's law with a generous latency: rate per second × 100 ms, and room for stalls. Too few
// pre-allocated users make k6 start more in the middle of the run, which drops iterations.
const VUS = positiveNumber("VUS", Math.max(20, Math.ceil((PEAK_RPM / 60) * 0.1)));
const MAX_VUS = positiveNumber("MAX_VUS", Math.max(200, VUS * 10));

const JSON_HEADERS = { "Content-Type": "application/json" };
const REQUEST_TIMEOUT = "10s";

const badAnswers = new Counter("bad_answers");

export const options = {
  discardResponseBodies: false,
  // Fewer tags on every sample: the ones the thresholds and the summary read.
  systemTags: ["status", "method", "name", "scenario", "expected_response", "error_code"],
  setupTimeout: "5m",
  summaryTrendStats: ["avg", "min", "med", "max", "p(50)", "p(95)", "p(99)", "count"],
  scenarios: {
    load: STAGES.length
      ? {
          executor: "ramping-arrival-rate",
          startRate: Math.min(STAGES[0].target, 60),
          timeUnit: "1m",
          preAllocatedVUs: VUS,
          maxVUs: MAX_VUS,
          stages: STAGES.flatMap((stage) => [
            { target: stage.target, duration: RAMP },
            { target: stage.target, duration: stage.duration },
          ]),
          tags: { phase: "load" },
        }
      : {
          executor: "constant-arrival-rate",
          rate: RATE,
          timeUnit: "1m",
          duration: DURATION,
          preAllocatedVUs: VUS,
          maxVUs: MAX_VUS,
          tags: { phase: "load" },
        },
  },
  thresholds: {
    // Only the scenario's requests count: seeding in setup() is not the load.
    "http_req_duration{phase:load}": [`p(99)<${P99_MS}`],
    "http_req_failed{phase:load}": [`rate<=${MAX_ERROR_RATE}`],
    "checks{phase:load}": [`rate>=${1 - MAX_ERROR_RATE}`],
    bad_answers: [`count<=${Math.floor(MAX_ERROR_RATE * 1e12)}`],
    // An arrival rate that k6 could not keep up is a failed run, never a pass at a lower rate.
    dropped_iterations: [`count<=${MAX_DROPPED}`],
    // Per operation, for the summary (always true).
    ...Object.fromEntries(
      Object.keys(MIX).map((op) => [`http_req_duration{op:${op}}`, ["max>=0"]]),
    ),
  },
};

// Per virtual user (each has its own copy of the module): users it created and may change, and
// where its walk through the list has got to.
const own = [];
let cursor = null;
let sequence = 0;

export function setup() {
  const run = `${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;
  const ids = [];
  const batch = 50;
  for (let start = 0; start < USERS; start += batch) {
    const requests = [];
    for (let index = start; index < Math.min(USERS, start + batch); index++) {
      requests.push({
        method: "POST",
        url: `${BASE_URL}/users`,
        body: JSON.stringify(newUser(`seed-${run}-${index}`)),
        params: { headers: JSON_HEADERS, timeout: REQUEST_TIMEOUT },
      });
    }
    for (const response of http.batch(requests)) {
      if (response.status !== 201) {
        fail(`seeding: POST /users answered ${response.status}: ${response.body}`);
      }
      ids.push(response.json("id"));
    }
  }
  return { run, ids };
}

export default function (data) {
  const op = pick(MIX);
  if (op === "get") getById(data);
  else if (op === "list") listPage();
  else if (op === "create") create(data);
  else if (op === "replace") (own.length ? replace : create)(data);
  else if (op === "delete") (own.length ? remove : create)(data);
}

function getById(data) {
  const id = data.ids[Math.floor(Math.random() * data.ids.length)];
  const response = http.get(`${BASE_URL}/users/${id}`, params("get"));
  verify(response, "get", 200, (body) => isUser(body) && body.id === id);
}

function listPage() {
  const query = cursor ? `limit=${PAGE_SIZE}&cursor=${encodeURIComponent(cursor)}` : `limit=${PAGE_SIZE}`;
  const response = http.get(`${BASE_URL}/users?${query}`, params("list"));
  const body = verify(
    response,
    "list",
    200,
    (page) =>
      Array.isArray(page.users) &&
      page.users.every(isUser) &&
      page.count === page.users.length &&
      (page.next_cursor === null || typeof page.next_cursor === "string"),
  );
  cursor = body ? body.next_cursor : null;
}

function create(data) {
  const user = newUser(`load-${data.run}-${__VU}-${sequence++}`);
  const response = http.post(`${BASE_URL}/users`, JSON.stringify(user), params("create", JSON_HEADERS));
  const body = verify(
    response,
    "create",
    201,
    (created) => isUser(created) && created.name === user.name && created.version === 1,
  );
  if (body) own.push({ id: body.id, etag: response.headers.Etag, name: user.name });
}

function replace() {
  const index = Math.floor(Math.random() * own.length);
  const target = own[index];
  const user = newUser(target.name);
  user.other = `replaced ${sequence++}`;
  const headers = { ...JSON_HEADERS, "If-Match": target.etag };
  const response = http.put(`${BASE_URL}/users/${target.id}`, JSON.stringify(user), params("replace", headers));
  const body = verify(
    response,
    "replace",
    200,
    (replaced) => isUser(replaced) && replaced.id === target.id && replaced.other === user.other,
  );
  if (body) target.etag = response.headers.Etag;
  else own.splice(index, 1);
}

function remove() {
  const target = own.splice(Math.floor(Math.random() * own.length), 1)[0];
  const response = http.del(`${BASE_URL}/users/${target.id}`, null, params("delete", { "If-Match": target.etag }));
  verify(response, "delete", 204, () => true, false);
}

function verify(response, op, status, shape, hasBody = true) {
  let body = null;
  const ok = check(
    response,
    {
      [`${op}: status ${status}`]: (r) => r.status === status,
      [`${op}: body shape`]: (r) => {
        if (!hasBody) return r.body === null || r.body.length === 0;
        try {
          body = r.json();
        } catch (error) {
          return false;
        }
        return body !== null && shape(body);
      },
    },
    { op },
  );
  if (!ok) {
    badAnswers.add(1, { op });
    return null;
  }
  return hasBody ? body : {};
}

function isUser(body) {
  return (
    Number.isInteger(body.id) &&
    typeof body.name === "string" &&
    (body.email === null || typeof body.email === "string") &&
    (body.other === null || typeof body.other === "string") &&
    typeof body.created_at === "string" &&
    Number.isInteger(body.version)
  );
}

function newUser(name) {
  return { name, email: `${name}@load.example`, other: "k6" };
}

// The route, not the URL, names each request: a tag per user id would make a time series per
// user in k6's metrics, which costs k6 more CPU than the request itself.
const ROUTES = {
  get: "GET /users/{id}",
  list: "GET /users",
  create: "POST /users",
  replace: "PUT /users/{id}",
  delete: "DELETE /users/{id}",
};

function params(op, headers = {}) {
  return { headers, tags: { op, name: ROUTES[op] }, timeout: REQUEST_TIMEOUT };
}

function pick(mix) {
  let roll = Math.random() * 100;
  for (const [op, weight] of Object.entries(mix)) {
    roll -= weight;
    if (roll < 0) return op;
  }
  return Object.keys(mix)[0];
}

function parseMix(text) {
  const mix = {};
  for (const part of text.split(",")) {
    const [op, weight] = part.split("=").map((item) => item.trim());
    if (!["get", "list", "create", "replace", "delete"].includes(op) || !(Number(weight) >= 0)) {
      throw new Error(`MIX: "${part}" is not op=percent (ops: get, list, create, replace, delete)`);
    }
    mix[op] = Number(weight);
  }
  const total = Object.values(mix).reduce((sum, weight) => sum + weight, 0);
  if (Math.abs(total - 100) > 1e-9) throw new Error(`MIX: the percentages add up to ${total}, not 100`);
  return mix;
}

function parseStages(text) {
  if (!text.trim()) return [];
  return text.split(",").map((part) => {
    const [rate, duration] = part.split(":").map((item) => item.trim());
    if (!(Number(rate) > 0) || !duration) {
      throw new Error(`STAGES: "${part}" is not rpm:duration (for example 30000:1m)`);
    }
    return { target: Number(rate), duration };
  });
}

function positiveNumber(name, fallback) {
  const value = __ENV[name] === undefined || __ENV[name] === "" ? fallback : Number(__ENV[name]);
  if (!(value > 0)) throw new Error(`${name} must be a positive number, not ${__ENV[name]}`);
  return value;
}

export function handleSummary(data) {
  const metric = (name) => (data.metrics[name] ? data.metrics[name].values : {});
  const duration = metric("http_req_duration{phase:load}");
  const requests = metric("http_reqs");
  const lines = [
    `offered: ${STAGES.length ? STAGES.map((s) => `${s.target}rpm/${s.duration}`).join(" ") : `${RATE} rpm for ${DURATION}`}`,
    `requests: ${requests.count || 0} (${((requests.rate || 0) * 60).toFixed(0)} rpm over the whole run, setup included)`,
    `latency ms: p50 ${fmt(duration["p(50)"])} p95 ${fmt(duration["p(95)"])} p99 ${fmt(duration["p(99)"])} max ${fmt(duration.max)}`,
    `failed: ${fmt((metric("http_req_failed{phase:load}").rate || 0) * 100)}%  bad answers: ${metric("bad_answers").count || 0}  dropped iterations: ${metric("dropped_iterations").count || 0}`,
  ];
  for (const [name, threshold] of Object.entries(data.metrics)) {
    for (const [expression, result] of Object.entries(threshold.thresholds || {})) {
      if (!result.ok) lines.push(`THRESHOLD FAILED: ${name} ${expression}`);
    }
  }
  const outputs = { stdout: lines.join("\n") + "\n" };
  if (__ENV.SUMMARY) outputs[__ENV.SUMMARY] = JSON.stringify(data, null, 2);
  return outputs;
}

function fmt(value) {
  return value === undefined ? "-" : Number(value).toFixed(2);
}
