// The composed-supergraph test's JavaScript side, started by TestSupergraph
// (internal/gateway/federation_test.go) with the directory gateway already listening:
//
//   node supergraph.mjs <directory subgraph URL> <file with its SDL> [featured group ids, comma-separated]
//
// It starts a second subgraph ("channels": it extends Group with a chat
// channel and lists featured groups by reference), composes both with
// @theguild/federation-composition, serves the supergraph with Hive Gateway,
// all on 127.0.0.1, and prints one JSON line: {"gateway": "<URL>"}. It runs
// until its standard input closes (the test ends) or it is killed.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';

import { createGatewayRuntime } from '@graphql-hive/gateway';
import { composeServices } from '@theguild/federation-composition';
import { buildSchema, parse } from 'graphql';
import { createYoga } from 'graphql-yoga';

const [directoryURL, directorySDLFile, featured = ''] = process.argv.slice(2);
if (!directoryURL || !directorySDLFile) {
  console.error('usage: node supergraph.mjs <directory subgraph URL> <SDL file> [featured group ids]');
  process.exit(2);
}
const featuredIDs = featured.split(',').filter(Boolean);

// The channels subgraph, as composition sees it.
const channelsSDL = /* GraphQL */ `
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])

  "A Genesys group of the directory subgraph, extended here."
  type Group @key(fields: "id") {
    id: ID!
    "The group's chat channel: a field of this subgraph."
    channel: String!
  }

  type Query {
    "Groups this subgraph features: references the directory subgraph resolves."
    featuredGroups: [Group!]!
  }
`;

// The same subgraph as it executes: the federation fields _entities and
// _service written out (graphql-js resolves the _Entity union by __typename).
const channelsSchema = buildSchema(/* GraphQL */ `
  scalar _Any
  union _Entity = Group
  type _Service { sdl: String }
  type Group { id: ID! channel: String! }
  type Query {
    featuredGroups: [Group!]!
    _entities(representations: [_Any!]!): [_Entity]!
    _service: _Service!
  }
`);

const group = (id) => ({ __typename: 'Group', id, channel: `#team-${id.slice(-4)}` });

const queryFields = channelsSchema.getQueryType().getFields();
queryFields.featuredGroups.resolve = () => featuredIDs.map(group);
queryFields._entities.resolve = (_, { representations }) =>
  representations.map((r) => (r.__typename === 'Group' ? group(r.id) : null));
queryFields._service.resolve = () => ({ sdl: channelsSDL });

/** listen serves handler on a free loopback port and returns its base URL. */
function listen(handler) {
  const server = createServer(handler);
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${server.address().port}`));
  });
}

const channels = createYoga({
  schema: channelsSchema,
  graphqlEndpoint: '/graphql',
  graphiql: false,
  logging: false,
});
const channelsURL = `${await listen(channels)}/graphql`;

const composed = composeServices([
  { name: 'directory', typeDefs: parse(readFileSync(directorySDLFile, 'utf8')), url: directoryURL },
  { name: 'channels', typeDefs: parse(channelsSDL), url: channelsURL },
]);
if (composed.errors?.length) {
  for (const err of composed.errors) console.error('composition:', err.message);
  process.exit(1);
}

const gateway = createGatewayRuntime({ supergraph: composed.supergraphSdl, logging: false });
const gatewayURL = `${await listen(gateway)}/graphql`;

console.log(JSON.stringify({ gateway: gatewayURL }));
process.stdin.resume();
process.stdin.on('end', () => process.exit(0));
