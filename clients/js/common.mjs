// Helpers shared by the client scripts: the gateway's URL and a group id
// from the command line, a fetch that records what each request carried,
// and a time bound on the whole run.
import { createHash } from "node:crypto";

export const [url, groupId] = process.argv.slice(2);
if (!url || !groupId) {
  console.error("usage: node <script> <gateway /query URL> <group id>");
  process.exit(2);
}

// Every run ends within 60 s, whatever the gateway does.
setTimeout(() => {
  console.error("timed out");
  process.exit(3);
}, 60_000).unref();

export const sha256 = (text) => createHash("sha256").update(text).digest("hex");

// requests records each request: its method, whether it carried the query
// text and whether it named a persisted query by hash.
export const requests = [];

export const recordingFetch = (uri, options = {}) => {
  const method = (options.method ?? "GET").toUpperCase();
  let params;
  if (method === "GET") {
    const u = new URL(uri);
    params = { query: u.searchParams.get("query"), extensions: JSON.parse(u.searchParams.get("extensions") ?? "{}") };
  } else {
    params = JSON.parse(options.body);
  }
  requests.push({ method, query: Boolean(params.query), hash: Boolean(params.extensions?.persistedQuery?.sha256Hash) });
  return fetch(uri, options);
};

// takeRequests returns the requests recorded since the last call.
export const takeRequests = () => requests.splice(0, requests.length);

// untilDone collects an observable's values until done(value) holds, or
// fails after 20 s.
export const untilDone = (observable, done) =>
  new Promise((resolve, reject) => {
    const values = [];
    const timer = setTimeout(() => reject(new Error(`no final result after ${values.length} results`)), 20_000);
    // A plain function: what both rxjs (Apollo) and wonka (urql) take.
    const subscription = observable.subscribe((value) => {
      values.push(value);
      if (done(value)) {
        clearTimeout(timer);
        queueMicrotask(() => subscription.unsubscribe());
        resolve(values);
      }
    });
  });
