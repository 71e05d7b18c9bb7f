// The operations store-check.mjs runs against the gateway in one Relay
// store: the shapes that once shared a group's id (a profile, a delete
// payload) next to groups, members, rules and user groups.
import { graphql } from "relay-runtime";

export const groupQuery = graphql`
  query StoreCheckGroupQuery($id: ID!) {
    group(id: $id) {
      id
      name
      owners {
        id
      }
      userGroups {
        id
      }
      membersConnection(first: 5) {
        edges {
          node {
            id
            name
            division {
              id
            }
          }
        }
      }
    }
  }
`;

export const rulesQuery = graphql`
  query StoreCheckRulesQuery($id: ID!) {
    group(id: $id) {
      id
      dynamicDefinition {
        id
        groupId
      }
    }
  }
`;

export const profileQuery = graphql`
  query StoreCheckProfileQuery($id: ID!) {
    groupProfile(groupId: $id) {
      id
      groupId
      name
    }
  }
`;

export const nodesQuery = graphql`
  query StoreCheckNodesQuery($ids: [ID!]!) {
    nodes(ids: $ids) {
      id
      ... on Group {
        name
      }
      ... on UserGroup {
        name
      }
      ... on DynamicDefinition {
        groupId
      }
    }
  }
`;

export const setRulesMutation = graphql`
  mutation StoreCheckSetRulesMutation($id: ID!, $query: DynamicGroupQueryInput!) {
    setDynamicDefinition(groupId: $id, query: $query) {
      id
      groupId
    }
  }
`;

export const deleteGroupMutation = graphql`
  mutation StoreCheckDeleteGroupMutation($id: ID!) {
    deleteGroup(id: $id) {
      deletedId
      status
    }
  }
`;
