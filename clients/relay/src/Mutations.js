// Writes a normalised store can apply: a deleted group evicted by its id,
// rules updated in place by their own id, a refetch of any node.
import { graphql } from "relay-runtime";

export const deleteGroupMutation = graphql`
  mutation MutationsDeleteGroupMutation($id: ID!) {
    deleteGroup(id: $id) {
      deletedId @deleteRecord
      status
    }
  }
`;

export const removeMembersMutation = graphql`
  mutation MutationsRemoveMembersMutation($groupId: ID!, $memberIds: [ID!]!, $connections: [ID!]!) {
    removeGroupMembers(groupId: $groupId, memberIds: $memberIds) {
      status
      results {
        memberId @deleteEdge(connections: $connections)
        outcome
        errorCode
      }
    }
  }
`;

export const setRulesMutation = graphql`
  mutation MutationsSetRulesMutation($groupId: ID!, $query: DynamicGroupQueryInput!) {
    setDynamicDefinition(groupId: $groupId, query: $query) {
      id
      groupId
      dateModified
    }
  }
`;

export const nodeQuery = graphql`
  query MutationsNodeQuery($id: ID!) {
    node(id: $id) {
      __typename
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
