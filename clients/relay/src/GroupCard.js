// One group, refetchable through node(id:) (Group implements Node), with a
// paginated members connection whose expand-only fields are requested
// because they are selected.
import { graphql } from "relay-runtime";

export const groupCardFragment = graphql`
  fragment GroupCard_group on Group
  @argumentDefinitions(count: { type: "Int", defaultValue: 10 }, cursor: { type: "String" })
  @refetchable(queryName: "GroupCardRefetchQuery") {
    id
    name
    memberCount
    version
    membersConnection(first: $count, after: $cursor) @connection(key: "GroupCard_membersConnection") {
      totalCount
      edges {
        node {
          id
          name
          presence {
            systemPresence
          }
        }
      }
    }
    dynamicDefinition {
      id
      groupId
      dateModified
    }
  }
`;
