// Apollo Client 4 against the gateway: automatic persisted queries (POST,
// then GET with useGETForHashedQueries), the normalised InMemoryCache
// across a query and a mutation, and a @defer query read to its end.
import assert from "node:assert/strict";
import { ApolloClient, HttpLink, InMemoryCache, gql } from "@apollo/client";
import { Defer20220824Handler } from "@apollo/client/incremental";
import { PersistedQueryLink } from "@apollo/client/link/persisted-queries";
import { groupId, recordingFetch, sha256, takeRequests, untilDone, url } from "./common.mjs";

const client = (useGETForHashedQueries) =>
  new ApolloClient({
    cache: new InMemoryCache(),
    link: new PersistedQueryLink({ sha256, useGETForHashedQueries }).concat(new HttpLink({ uri: url, fetch: recordingFetch })),
    incrementalHandler: new Defer20220824Handler(),
  });

const GROUP = gql`
  query Group($id: ID!) {
    group(id: $id) { id name memberCount }
  }
`;
const GROUPS = gql`
  query Groups {
    groups(pageSize: 3) { entities { id name } total }
  }
`;
const RENAME = gql`
  mutation Rename($id: ID!, $name: String!) {
    updateGroup(id: $id, input: { name: $name }) { id name }
  }
`;
const DEFERRED = gql`
  query DeferredMembers {
    groups(pageSize: 2) {
      entities {
        id
        name
        ... @defer(label: "members") { members(pageSize: 2) { total entities { id name } } }
      }
    }
  }
`;
const checks = [];

// 1. POST: the hash alone, PersistedQueryNotFound, then hash and query.
const post = client(false);
let res = await post.query({ query: GROUP, variables: { id: groupId } });
assert.equal(res.data.group.id, groupId);
assert.deepEqual(takeRequests(), [
  { method: "POST", query: false, hash: true },
  { method: "POST", query: true, hash: true },
]);
res = await post.query({ query: GROUP, variables: { id: groupId }, fetchPolicy: "network-only" });
assert.equal(res.data.group.id, groupId);
assert.deepEqual(takeRequests(), [{ method: "POST", query: false, hash: true }], "registered: the hash alone is enough");
checks.push("apq-post");

// 2. GET for hashed queries: unknown hash over GET, registration over POST,
// then GET alone.
const get = client(true);
res = await get.query({ query: GROUPS });
assert.equal(res.data.groups.entities.length, 3);
assert.deepEqual(takeRequests(), [
  { method: "GET", query: false, hash: true },
  { method: "POST", query: true, hash: true },
]);
res = await get.query({ query: GROUPS, fetchPolicy: "network-only" });
assert.equal(res.data.groups.entities.length, 3);
assert.deepEqual(takeRequests(), [{ method: "GET", query: false, hash: true }]);
checks.push("apq-get");

// 3. The normalised cache: one Group record, updated by the mutation's
// answer, read back without a request.
const id = post.cache.identify({ __typename: "Group", id: groupId });
assert.equal(id, `Group:${groupId}`);
const newName = `Renamed by Apollo ${Date.now()}`;
await post.mutate({ mutation: RENAME, variables: { id: groupId, name: newName } });
takeRequests();
const cached = post.readQuery({ query: GROUP, variables: { id: groupId } });
assert.equal(cached.group.name, newName, "the mutation's answer updated the cached group");
res = await post.query({ query: GROUP, variables: { id: groupId } });
assert.equal(res.data.group.name, newName);
assert.deepEqual(takeRequests(), [], "served from the cache");
checks.push("normalised-cache");

// 4. @defer, read to its end: the first result has the groups without
// their members (never null), the last one has all of them.
const results = await untilDone(post.watchQuery({ query: DEFERRED, fetchPolicy: "network-only" }), (r) => r.dataState === "complete");
const streaming = results.filter((r) => r.dataState === "streaming");
const last = results.at(-1);
assert.equal(last.error, undefined);
assert.equal(last.data.groups.entities.length, 2);
for (const g of last.data.groups.entities) {
  assert.ok(g.members.total >= 0 && Array.isArray(g.members.entities), "members delivered");
}
for (const r of streaming) {
  for (const g of r.data.groups.entities) {
    assert.notEqual(g.members, null, "a deferred non-null field is absent, never null");
  }
}
checks.push("defer");

console.log(JSON.stringify({ client: "apollo", checks, streamingResults: streaming.length }));
