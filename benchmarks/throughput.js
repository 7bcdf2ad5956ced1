// Closed-loop throughput of one endpoint: VUS connections, each sending its next request as soon
// as the last answer arrives, for DURATION. Used by benchmarks/run.py to compare the service with
// the floor application (benchmarks/floor.py) on the same requests.
//
//   BASE_URL  the server;  OP  get (GET /users/{id} of seeded users) or create (POST /users)
//   VUS       concurrent connections (default 32);  DURATION (default 10s);  USERS seeded (200)
//   SUMMARY   where to write k6's summary as JSON

import http from "k6/http";
import { check, fail } from "k6";

const BASE_URL = (__ENV.BASE_URL || "http://127.0.0.1:8080").replace(/\/+$/, "");
const OP = __ENV.OP || "get";
const USERS = Number(__ENV.USERS || 200);
const HEADERS = { "Content-Type": "application/json" };

export const options = {
  scenarios: {
    throughput: {
      executor: "constant-vus",
      vus: Number(__ENV.VUS || 32),
      duration: __ENV.DURATION || "10s",
      tags: { phase: "load" },
    },
  },
  summaryTrendStats: ["med", "p(99)", "max"],
  thresholds: { "http_req_failed{phase:load}": ["rate<=0"] },
};

let sequence = 0;

export function setup() {
  const run = `${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;
  const requests = [];
  for (let index = 0; index < USERS; index++) {
    requests.push(["POST", `${BASE_URL}/users`, JSON.stringify({ name: `tp-${run}-${index}` }), { headers: HEADERS }]);
  }
  const ids = http.batch(requests).map((response) => {
    if (response.status !== 201) fail(`seeding: ${response.status} ${response.body}`);
    return response.json("id");
  });
  return { run, ids };
}

export default function (data) {
  if (OP === "get") {
    const response = http.get(`${BASE_URL}/users/${data.ids[Math.floor(Math.random() * data.ids.length)]}`);
    check(response, { "get: 200": (r) => r.status === 200 });
  } else {
    const name = `tp-${data.run}-${__VU}-${sequence++}`;
    const response = http.post(`${BASE_URL}/users`, JSON.stringify({ name, email: `${name}@tp.example` }), { headers: HEADERS });
    check(response, { "create: 201": (r) => r.status === 201 });
  }
}

export function handleSummary(data) {
  return __ENV.SUMMARY ? { [__ENV.SUMMARY]: JSON.stringify(data) } : {};
}
