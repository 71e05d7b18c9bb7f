// User groups, filtered by name, paginated backwards and forwards.
import { graphql } from "relay-runtime";

export const userGroupListQuery = graphql`
  query UserGroupListQuery($name: String, $count: Int!, $cursor: String) {
    ...UserGroupList_query @arguments(name: $name, count: $count, cursor: $cursor)
  }
`;

export const userGroupListFragment = graphql`
  fragment UserGroupList_query on Query
  @argumentDefinitions(name: { type: "String" }, count: { type: "Int!" }, cursor: { type: "String" })
  @refetchable(queryName: "UserGroupListPaginationQuery") {
    userGroupsConnection(name: $name, first: $count, after: $cursor)
      @connection(key: "UserGroupList_userGroupsConnection", filters: ["name"]) {
      edges {
        node {
          id
          name
          externalId
          group {
            id
            name
          }
        }
      }
    }
  }
`;
