// urql against the gateway: a plain query, and a @defer query read to its
// end over multipart/mixed, whose merged result equals the plain one.
import assert from "node:assert/strict";
import { Client, fetchExchange, gql } from "@urql/core";
import { groupId, recordingFetch, untilDone, url } from "./common.mjs";

const client = new Client({ url, exchanges: [fetchExchange], fetch: recordingFetch, preferGetMethod: false });
const checks = [];

const PLAIN = gql`
  query Plain($id: ID!) {
    group(id: $id) { id name members(pageSize: 3) { total entities { id name } } dynamicDefinition { groupId } }
  }
`;
const DEFERRED = gql`
  query Deferred($id: ID!) {
    group(id: $id) {
      id
      name
      ... @defer(label: "members") { members(pageSize: 3) { total entities { id name } } }
      ... @defer(label: "rules") { dynamicDefinition { groupId } }
    }
  }
`;

const plain = await client.query(PLAIN, { id: groupId }, { requestPolicy: "network-only" }).toPromise();
assert.equal(plain.error, undefined);
assert.equal(plain.data.group.id, groupId);
checks.push("query");

const results = await untilDone(client.query(DEFERRED, { id: groupId }, { requestPolicy: "network-only" }), (r) => !r.hasNext);
assert.ok(results.length >= 2, `incremental results: ${results.length}`);
assert.equal(results[0].hasNext, true);
assert.equal(results[0].data.group.members, undefined, "the first result leaves the deferred field out");
const last = results.at(-1);
assert.equal(last.error, undefined);
assert.deepEqual(JSON.parse(JSON.stringify(last.data)), JSON.parse(JSON.stringify(plain.data)));
checks.push("defer");

console.log(JSON.stringify({ client: "urql", checks, results: results.length }));
