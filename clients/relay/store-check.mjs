// A Relay store fed by the gateway: runs the StoreCheck operations (compiled
// by relay-compiler into src/__generated__) against GATEWAY_URL with the ids
// in argv[2] (JSON: {group, other, userGroup}), and fails when a record
// changes __typename, which is what a shared id does to a normalised store.
// Prints the record types per operation as JSON. Run by the Go test
// TestRelayStoreKeepsOneTypePerID.
import relay from "relay-runtime";

const { Environment, Network, RecordSource, Store, fetchQuery, commitMutation } = relay;
const gen = (name) => import(`./src/__generated__/${name}.graphql.js`).then((m) => m.default);

const url = process.env.GATEWAY_URL;
const ids = JSON.parse(process.argv[2]);

const env = new Environment({
  network: Network.create(async (params, variables) => {
    const res = await fetch(url, {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify({ query: params.text, variables }),
      signal: AbortSignal.timeout(10_000),
    });
    const json = await res.json();
    if (json.errors) throw new Error(`${params.name}: ${JSON.stringify(json.errors)}`);
    return json;
  }),
  store: new Store(new RecordSource()),
});

const query = (node, variables) => fetchQuery(env, node, variables).toPromise();
const mutate = (mutation, variables) =>
  new Promise((resolve, reject) => commitMutation(env, { mutation, variables, onCompleted: resolve, onError: reject }));

const rules = {
  skillConditions: [
    { operation: "AND", routingSkillConditions: [{ routingSkill: "Chat", comparator: "GREATER_THAN", proficiency: 1 }] },
  ],
};
const steps = [
  ["group", async () => query(await gen("StoreCheckGroupQuery"), { id: ids.group })],
  ["setRules", async () => mutate(await gen("StoreCheckSetRulesMutation"), { id: ids.group, query: rules })],
  ["rules", async () => query(await gen("StoreCheckRulesQuery"), { id: ids.group })],
  ["profile", async () => query(await gen("StoreCheckProfileQuery"), { id: ids.group })],
  ["nodes", async () =>
    query(await gen("StoreCheckNodesQuery"), { ids: [ids.group, `DynamicDefinition:${ids.group}`, ids.userGroup] })],
  ["deleteGroup", async () => mutate(await gen("StoreCheckDeleteGroupMutation"), { id: ids.other })],
  ["group again", async () => query(await gen("StoreCheckGroupQuery"), { id: ids.group })],
];

const typeOf = new Map();
const conflicts = [];
const seen = {};
for (const [name, run] of steps) {
  await run();
  const source = env.getStore().getSource();
  for (const id of source.getRecordIDs()) {
    const type = source.get(id)?.__typename;
    if (!type || id.startsWith("client:")) continue;
    if (typeOf.has(id) && typeOf.get(id) !== type) conflicts.push({ step: name, id, was: typeOf.get(id), now: type });
    typeOf.set(id, type);
  }
  seen[name] = [...new Set(typeOf.values())].sort();
}
console.log(JSON.stringify({ seen, conflicts }));
process.exit(conflicts.length ? 1 : 0);
